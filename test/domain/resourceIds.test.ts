import { describe, expect, it } from "vitest";
import {
  formatGalleryId,
  formatImageVersionId,
  formatSubnetId,
  normalizeResourceId,
  parseGalleryId,
  parseImageVersionId,
  parseSubnetId,
  resourceIdIssue,
  sameResourceId,
} from "../../src/domain/resourceIds";
import { validationErrorOf } from "../support/validation";

const SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const SUB_UPPER = SUB.toUpperCase();
const RG_ID = `/subscriptions/${SUB}/resourceGroups/Publisher-RG`;
const GALLERY_ID = `${RG_ID}/providers/Microsoft.Compute/galleries/Golden_Images.v2`;
const VERSION_ID = `${GALLERY_ID}/images/ubuntu-22.04/versions/1.0.3`;

describe("parsing ARM ids", () => {
  it("parses gallery and image version ids", () => {
    expect(parseGalleryId(GALLERY_ID)).toEqual({ subscriptionId: SUB, resourceGroup: "Publisher-RG", gallery: "Golden_Images.v2" });
    expect(parseImageVersionId(VERSION_ID)).toEqual({
      subscriptionId: SUB,
      resourceGroup: "Publisher-RG",
      gallery: "Golden_Images.v2",
      image: "ubuntu-22.04",
      version: "1.0.3",
    });
  });

  it("matches segment names in any case (Microsoft's samples write resourcegroups) and keeps name casing", () => {
    const ref = parseImageVersionId(`/SUBSCRIPTIONS/${SUB_UPPER}/resourcegroups/CLITEST.RG/PROVIDERS/microsoft.compute/GALLERIES/G1/IMAGES/Img/VERSIONS/0.0.1`);
    expect(ref).toEqual({ subscriptionId: SUB, resourceGroup: "CLITEST.RG", gallery: "G1", image: "Img", version: "0.0.1" });
  });

  it("tolerates one trailing slash", () => {
    expect(parseGalleryId(`${GALLERY_ID}/`).gallery).toBe("Golden_Images.v2");
  });

  it("parses subnet ids", () => {
    expect(parseSubnetId(`${RG_ID}/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/default`)).toEqual({
      subscriptionId: SUB,
      resourceGroup: "Publisher-RG",
      virtualNetwork: "vnet1",
      subnet: "default",
    });
  });

  it("rejects a wrong shape, naming the expected shape", () => {
    const err = validationErrorOf(() => parseGalleryId(`${RG_ID}/providers/Microsoft.Storage/storageAccounts/x`));
    expect(err.errors).toEqual([
      {
        path: "",
        rule: "must be a gallery resource id like /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Compute/galleries/{gallery}",
      },
    ]);
    expect(err.message).toContain('invalid gallery resource id "/subscriptions/');
    expect(validationErrorOf(() => parseGalleryId("subscriptions/x")).errors[0]?.rule).toContain("must be a gallery resource id like");
    expect(validationErrorOf(() => parseImageVersionId(GALLERY_ID)).errors[0]?.rule).toContain("must be an image version id like");
  });

  it("rejects a value that is not a string", () => {
    const err = validationErrorOf(() => parseGalleryId(42 as unknown as string));
    expect(err.message).toBe(
      "invalid gallery resource id: must be a gallery resource id like /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Compute/galleries/{gallery}",
    );
  });

  it("names every bad segment and its rule", () => {
    const err = validationErrorOf(() =>
      parseImageVersionId("/subscriptions/not-a-guid/resourceGroups/rg./providers/Microsoft.Compute/galleries/my-gallery/images/_img/versions/1.2"),
    );
    expect(err.errors).toEqual([
      { path: "subscriptionId", rule: "must be a GUID" },
      { path: "resourceGroup", rule: "must be 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'" },
      { path: "gallery", rule: "must be 1-80 letters, digits, '.' or '_', starting and ending with a letter or digit" },
      { path: "image", rule: "must be 1-80 letters, digits, '-', '.' or '_', starting and ending with a letter or digit" },
      { path: "version", rule: "must be major.minor.patch: three whole numbers from 0 to 2147483647" },
    ]);
    expect(err.message).toMatch(/^invalid image version id ".*": subscriptionId: must be a GUID; resourceGroup: /);
  });

  it("applies the ARM naming rules at their edges", () => {
    const gallery = (name: string) => `${RG_ID}/providers/Microsoft.Compute/galleries/${name}`;
    expect(parseGalleryId(gallery("a".repeat(80))).gallery).toHaveLength(80);
    expect(() => parseGalleryId(gallery("a".repeat(81)))).toThrow(/gallery: must be 1-80/);
    expect(() => parseGalleryId(gallery("g_"))).toThrow(/gallery: /);
    expect(() => parseGalleryId(gallery(".g"))).toThrow(/gallery: /);
    const inGroup = (rg: string) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/galleries/g`;
    expect(parseGalleryId(inGroup("r".repeat(90))).resourceGroup).toHaveLength(90);
    expect(() => parseGalleryId(inGroup("r".repeat(91)))).toThrow(/resourceGroup: /);
    expect(parseGalleryId(inGroup("rg_(prod)-ß")).resourceGroup).toBe("rg_(prod)-ß");
    expect(() => parseGalleryId(`/subscriptions/${SUB}/resourceGroups//providers/Microsoft.Compute/galleries/g`)).toThrow(/resourceGroup: must be 1-90/);
    const version = (v: string) => `${GALLERY_ID}/images/img/versions/${v}`;
    expect(parseImageVersionId(version("2147483647.0.0")).version).toBe("2147483647.0.0");
    expect(() => parseImageVersionId(version("2147483648.0.0"))).toThrow(/version: must be major.minor.patch/);
    expect(() => parseImageVersionId(version("1.0.0-beta"))).toThrow(/version: /);
    expect(() => parseSubnetId(`${RG_ID}/providers/Microsoft.Network/virtualNetworks/v/subnets/s`)).toThrow(/virtualNetwork: must be 2-64/);
  });
});

describe("formatting ARM ids", () => {
  const version = { subscriptionId: SUB_UPPER, resourceGroup: "rg", gallery: "g", image: "i", version: "1.0.0" };

  it("writes canonical segment casing and a lower-case subscription", () => {
    expect(formatGalleryId(version)).toBe(`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g`);
    expect(formatImageVersionId(version)).toBe(`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0`);
    expect(formatSubnetId({ subscriptionId: SUB, resourceGroup: "rg", virtualNetwork: "vnet", subnet: "default" })).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default`,
    );
  });

  it("round-trips a lower-cased id to its canonical form", () => {
    expect(formatImageVersionId(parseImageVersionId(VERSION_ID.toLowerCase()))).toBe(
      `/subscriptions/${SUB}/resourceGroups/publisher-rg/providers/Microsoft.Compute/galleries/golden_images.v2/images/ubuntu-22.04/versions/1.0.3`,
    );
  });

  it("refuses to build an id from a missing name", () => {
    expect(() =>
      formatImageVersionId({ subscriptionId: SUB, resourceGroup: "rg", gallery: "g", image: undefined as unknown as string, version: "1.0.0" }),
    ).toThrow("cannot format an image version id: image: must be 1-80");
  });

  it("refuses to build an id from names that break the rules", () => {
    const err = validationErrorOf(() => formatGalleryId({ subscriptionId: "x", resourceGroup: "rg", gallery: "a/b" }));
    expect(err.message).toBe(
      "cannot format a gallery resource id: subscriptionId: must be a GUID; gallery: must be 1-80 letters, digits, '.' or '_', starting and ending with a letter or digit",
    );
  });
});

describe("resourceIdIssue", () => {
  it("is undefined for a valid id", () => {
    expect(resourceIdIssue("gallery", GALLERY_ID)).toBeUndefined();
  });

  it("describes a wrong shape with the expected shape", () => {
    expect(resourceIdIssue("subnet", 7)).toBe(
      "must be a subnet id like /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/virtualNetworks/{virtualNetwork}/subnets/{subnet}",
    );
  });

  it("describes bad segments in one rule", () => {
    expect(resourceIdIssue("gallery", `/subscriptions/nope/resourceGroups/rg/providers/Microsoft.Compute/galleries/g-1`)).toBe(
      "must be a gallery resource id: subscriptionId must be a GUID; gallery must be 1-80 letters, digits, '.' or '_', starting and ending with a letter or digit",
    );
  });
});

describe("comparing ids", () => {
  it("normalizes case and trailing slashes", () => {
    expect(normalizeResourceId(` ${GALLERY_ID}// `)).toBe(GALLERY_ID.toLowerCase());
    expect(sameResourceId(GALLERY_ID, GALLERY_ID.toUpperCase() + "/")).toBe(true);
    expect(sameResourceId(GALLERY_ID, `${GALLERY_ID}2`)).toBe(false);
  });

  it("ignores case as ARM does, one character at a time: the KELVIN SIGN is not a k", () => {
    const rg = (name: string) => `/subscriptions/5d2e9c1a-3f47-4b8e-a6d0-9c1b7e2f4a10/resourceGroups/${name}/providers/Microsoft.Compute/galleries/g`;
    expect(sameResourceId(rg("rg-\u212Aeep"), rg("rg-keep"))).toBe(false);
    expect(sameResourceId(rg("rg-\u2126"), rg("rg-\u03c9"))).toBe(false);
    expect(sameResourceId(rg("RG-Café"), rg("rg-CAFÉ"))).toBe(true);
  });
});
