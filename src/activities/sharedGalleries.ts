// What a consumer sees of a direct share: the shared gallery's unique name, found among the
// galleries shared with its tenant in a location ("<publisher subscription>-<GALLERY NAME>").
import type { Services } from "../services";

type Compute = ReturnType<Services["arm"]["compute"]>;

/** Enough for any consumer: direct sharing allows a handful of galleries per tenant. */
export const MAX_LISTED = 500;

/**
 * The unique name of `gallery` as the consumer sees it in `location`, or undefined when it is not
 * listed there. A gallery shared with the tenant is listed with sharedTo=tenant; one shared with the
 * consumer's subscription only in the plain list (the subscription's own shares): both are read.
 */
export async function sharedUniqueName(consumer: Compute, location: string, gallery: string): Promise<string | undefined> {
  for (const options of [{ sharedTo: "tenant" as const }, {}]) {
    let listed = 0;
    for await (const shared of consumer.sharedGalleries.list(location, options)) {
      const name = shared.uniqueId?.split("/").pop() ?? shared.name;
      if (name && name.toUpperCase().endsWith(`-${gallery.toUpperCase()}`)) return name;
      if (++listed >= MAX_LISTED) break;
    }
  }
  return undefined;
}
