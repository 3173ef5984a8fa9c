import { createServer, type Server, type Socket } from "node:net";

/**
 * A TCP listener on 127.0.0.1 standing in for a host: it counts connections and closes each at once,
 * or, with `hold`, keeps them open (the host is slow to answer) until `release()`.
 */
export interface Listener {
  port: number;
  connections: number;
  server: Server;
  /** Called on each connection (after counting it). */
  onConnection?: () => void;
  /** Closes every held connection. */
  release(): void;
}

export async function listen(options: { hold?: boolean } = {}): Promise<Listener> {
  const held: Socket[] = [];
  const listener: Listener = {
    port: 0,
    connections: 0,
    server: createServer(),
    release: () => held.splice(0).forEach((socket) => socket.destroy()),
  };
  listener.server.on("connection", (socket) => {
    listener.connections += 1;
    if (options.hold) held.push(socket);
    else socket.destroy();
    listener.onConnection?.();
  });
  await new Promise<void>((resolve) => listener.server.listen(0, "127.0.0.1", resolve));
  const address = listener.server.address();
  if (address === null || typeof address === "string") throw new Error("listener has no port");
  listener.port = address.port;
  return listener;
}

export function closeListener(listener: Listener): Promise<void> {
  listener.release();
  return new Promise<void>((resolve) => listener.server.close(() => resolve()));
}
