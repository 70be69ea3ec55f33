// Compute (gallery) client per subscription, built once per configuration.
import { ComputeManagementClient } from "@azure/arm-compute";
import type { AppConfig } from "../config";
import { appCredential } from "./credentials";

let forConfig: AppConfig | undefined;
let clients = new Map<string, ComputeManagementClient>();

export function computeClient(config: AppConfig, subscriptionId: string): ComputeManagementClient {
  if (forConfig !== config) {
    forConfig = config;
    clients = new Map();
  }
  let client = clients.get(subscriptionId);
  if (!client) {
    client = new ComputeManagementClient(appCredential(config), subscriptionId, { endpoint: config.armEndpoint });
    clients.set(subscriptionId, client);
  }
  return client;
}
