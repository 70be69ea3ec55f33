// The galleries this app manages (GALLERY_IDS) are the only ones it reads or shares. Activities
// check their input against that list themselves: an orchestration can be started through the
// durable HTTP API with any input, so input is a request, not a permission.
import type { AppConfig } from "../config";
import { formatGalleryId, parseGalleryId, parseImageVersionId, sameResourceId } from "../domain/resourceIds";
import { ActivityRuleError } from "./activity";

/** The managed gallery's id as GALLERY_IDS spells it; throws GalleryNotManaged otherwise. */
export function managedGalleryId(config: AppConfig, galleryId: string): string {
  const canonical = formatGalleryId(parseGalleryId(galleryId));
  const managed = config.galleryIds.find((id) => sameResourceId(id, canonical));
  if (!managed) throw new ActivityRuleError("GalleryNotManaged", `gallery ${canonical} is not one this app manages (GALLERY_IDS)`);
  return managed;
}

/** The managed gallery an image version belongs to; throws GalleryNotManaged otherwise. */
export function galleryOfVersion(config: AppConfig, imageVersionId: string): string {
  const ref = parseImageVersionId(imageVersionId);
  return managedGalleryId(config, formatGalleryId(ref));
}
