// Test helpers: a broker on a virtual clock and real @azure/service-bus clients with small
// retry budgets (a failure surfaces in seconds, not after the SDK's minutes of retries).
import { ServiceBusClient, type ServiceBusClientOptions } from "@azure/service-bus";
import { VirtualClock } from "../../local/clock";
import { startServiceBusBroker, type ServiceBusBroker, type ServiceBusBrokerOptions } from "../../local/servicebus";

export const FAST: ServiceBusClientOptions = { retryOptions: { maxRetries: 0, timeoutInMs: 10_000 } };

export interface Harness {
  broker: ServiceBusBroker;
  clock: VirtualClock;
  client: ServiceBusClient;
  /** Another client on the broker (closed with the harness). */
  connect(connectionString?: string, options?: ServiceBusClientOptions): ServiceBusClient;
  close(): Promise<void>;
}

export async function startHarness(options: ServiceBusBrokerOptions = {}): Promise<Harness> {
  const clock = new VirtualClock(Date.now());
  const broker = await startServiceBusBroker({ clock, ...options });
  const clients: ServiceBusClient[] = [];
  const connect = (connectionString = broker.connectionString, clientOptions: ServiceBusClientOptions = FAST): ServiceBusClient => {
    const client = new ServiceBusClient(connectionString, clientOptions);
    clients.push(client);
    return client;
  };
  const client = connect();
  return {
    broker,
    clock,
    client,
    connect,
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await broker.close();
    },
  };
}
