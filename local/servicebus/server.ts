// Plain AMQP 1.0 over TCP on 127.0.0.1 (what the SDK speaks with UseDevelopmentEmulator=true),
// SASL ANONYMOUS as the SDK offers it; authorisation happens afterwards on $cbs. One rhea
// container per server, its events routed to the broker's handlers.
import net from "node:net";
import rhea, { type Connection, type Delivery, type EventContext, type Receiver, type Sender } from "rhea";
import { BATCH_FORMAT, toAmqpMessage, decodeMessage, type AmqpMessage } from "./amqpMessage";

export interface AmqpHandlers {
  connectionOpened(connection: Connection): void;
  connectionClosed(connection: Connection): void;
  senderOpened(sender: Sender): void;
  receiverOpened(receiver: Receiver): void;
  linkClosed(link: Sender | Receiver): void;
  /** A transfer from the peer: one message, or a batch envelope (format BATCH_FORMAT) already decoded. */
  transfer(receiver: Receiver, delivery: Delivery, message: AmqpMessage, format: number): void;
  /** The peer's outcome on one of our deliveries. */
  outcome(sender: Sender, delivery: Delivery): void;
  flow(sender: Sender): void;
  /** The session of one of our senders has room for more deliveries again. */
  sendable(sender: Sender): void;
  error(where: string, error: unknown): void;
}

export interface AmqpServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startAmqpServer(port: number, handlers: AmqpHandlers): Promise<AmqpServer> {
  const container = rhea.create_container({ id: `local-servicebus-${process.pid}` });
  const sockets = new Set<net.Socket>();
  const connections = new Set<Connection>();

  const guard =
    (where: string, fn: (context: EventContext) => void) =>
    (context: EventContext): void => {
      try {
        fn(context);
      } catch (e) {
        handlers.error(where, e);
      }
    };

  container.on(
    "connection_open",
    guard("connection_open", (c) => {
      connections.add(c.connection);
      handlers.connectionOpened(c.connection);
    }),
  );
  const closed = guard("connection_close", (c) => {
    if (connections.delete(c.connection)) handlers.connectionClosed(c.connection);
  });
  container.on("connection_close", closed);
  container.on("disconnected", closed);
  container.on(
    "connection_error",
    guard("connection_error", (c) => handlers.error("connection", c.connection.error)),
  );
  container.on(
    "sender_open",
    guard("sender_open", (c) => c.sender && handlers.senderOpened(c.sender)),
  );
  container.on(
    "receiver_open",
    guard("receiver_open", (c) => c.receiver && handlers.receiverOpened(c.receiver)),
  );
  for (const event of ["sender_close", "receiver_close"]) {
    container.on(
      event,
      guard(event, (c) => {
        const link = c.sender ?? c.receiver;
        if (link) handlers.linkClosed(link);
      }),
    );
  }
  // Errors arrive with the close events above; listening here keeps rhea from throwing them.
  for (const event of ["sender_error", "receiver_error", "session_error"]) container.on(event, () => undefined);
  container.on(
    "message",
    guard("message", (c) => {
      if (!c.receiver || !c.delivery) return;
      const format = c.delivery.format ?? 0;
      // rhea decodes format 0 itself and hands other formats over as raw bytes.
      const message = format === 0 ? toAmqpMessage(c.message) : format === BATCH_FORMAT && Buffer.isBuffer(c.message) ? decodeMessage(c.message) : undefined;
      if (!message) {
        c.delivery.reject({ condition: "amqp:not-implemented", description: `message-format ${format} is not supported` });
        return;
      }
      handlers.transfer(c.receiver, c.delivery, message, format);
    }),
  );
  for (const event of ["accepted", "rejected", "released", "modified"]) {
    container.on(
      event,
      guard(event, (c) => c.sender && c.delivery && handlers.outcome(c.sender, c.delivery)),
    );
  }
  container.on(
    "sender_flow",
    guard("sender_flow", (c) => c.sender && handlers.flow(c.sender)),
  );
  // The session's outgoing buffer had room again (settled deliveries left it): deliver more.
  container.on(
    "sendable",
    guard("sendable", (c) => c.sender && handlers.sendable(c.sender)),
  );
  container.on("error", (e: unknown) => handlers.error("container", e));

  const server = net.createServer((socket) => {
    sockets.add(socket);
    // autoaccept off: the broker answers each transfer itself; modified is not folded into released.
    const options = { treat_modified_as_released: false, autoaccept: false, container_id: container.id };
    const connection = container.create_connection(options as unknown as Parameters<typeof container.create_connection>[0]);
    // accept (server side of a socket) and eof are missing from rhea's typings. rhea listens for
    // 'end' only; a socket destroyed by close() must still reach it, or its heartbeat timers stay armed.
    const internal = connection as unknown as { accept(s: net.Socket): void; eof(): void };
    socket.on("close", () => {
      sockets.delete(socket);
      internal.eof();
    });
    internal.accept(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("the AMQP server has no TCP address");

  return {
    port: address.port,
    async close(): Promise<void> {
      for (const connection of connections) {
        try {
          connection.close({ condition: "amqp:connection:forced", description: "The local Service Bus broker is shutting down." });
        } catch {
          // already closing
        }
      }
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Let close frames go out and peers hang up (at most 250 ms), then drop whatever is left.
      const hungUp = Promise.all([...sockets].map((socket) => new Promise<void>((resolve) => socket.once("close", () => resolve()))));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        void hungUp.then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      for (const socket of sockets) socket.destroy();
      await stopped;
      connections.clear();
    },
  };
}
