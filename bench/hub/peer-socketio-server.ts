/**
 * @module bench/hub/peer-socketio-server
 * Peer (a): a minimal Socket.IO server, websocket transport only. Clients `join` a room (with an
 * ack); a `pub` event is broadcast to the room with `io.to(room).emit('m', data)`, Socket.IO's
 * own encode-once broadcast path. Env: PORT, HOST.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false, maxHttpBufferSize: 1e6 });

io.on('connection', (socket) => {
  socket.on('join', (room: string, ack?: (ok: boolean) => void) => {
    void socket.join(String(room));
    if (typeof ack === 'function') ack(true);
  });
  socket.on('pub', (room: string, data: unknown) => {
    io.to(String(room)).emit('m', data);
  });
});
http.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
