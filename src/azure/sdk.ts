// The Azure SDK packages, each loaded the first time it is needed rather than when the app starts:
// a Flex Consumption cold start then pays only for what the first invocation uses. `require` (not
// `import()`) keeps every package on its CommonJS build, the one `import type` describes.
/* eslint-disable @typescript-eslint/no-require-imports -- deferred loading is the point of this module */
import type * as Authorization from "@azure/arm-authorization";
import type * as Compute from "@azure/arm-compute";
import type * as Network from "@azure/arm-network";
import type * as Pipeline from "@azure/core-rest-pipeline";
import type * as Tables from "@azure/data-tables";
import type * as EventGrid from "@azure/eventgrid";
import type * as IdentitySdk from "@azure/identity";
import type * as ServiceBus from "@azure/service-bus";

export type Identity = typeof IdentitySdk;

export const identitySdk = (): Identity => require("@azure/identity") as Identity;
export const computeSdk = (): typeof Compute => require("@azure/arm-compute") as typeof Compute;
export const pipelineSdk = (): typeof Pipeline => require("@azure/core-rest-pipeline") as typeof Pipeline;
export const tablesSdk = (): typeof Tables => require("@azure/data-tables") as typeof Tables;
export const eventGridSdk = (): typeof EventGrid => require("@azure/eventgrid") as typeof EventGrid;
export const serviceBusSdk = (): typeof ServiceBus => require("@azure/service-bus") as typeof ServiceBus;
export const authorizationSdk = (): typeof Authorization => require("@azure/arm-authorization") as typeof Authorization;
export const networkSdk = (): typeof Network => require("@azure/arm-network") as typeof Network;
