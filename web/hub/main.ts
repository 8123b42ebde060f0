// A minimal live view of hub channels, built on the raw protocol so it has no dependencies.
const log = document.getElementById('log')!;
const state = document.getElementById('state')!;
const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
let ws: WebSocket;
let nextId = 1;

function line(text: string): void {
  const div = document.createElement('div');
  div.textContent = `${new Date().toISOString().slice(11, 23)}  ${text}`;
  log.prepend(div);
  while (log.childElementCount > 500) log.lastElementChild?.remove();
}

function connect(): void {
  ws = new WebSocket(url);
  ws.onopen = () => (state.textContent = 'connected');
  ws.onclose = (e) => {
    state.textContent = `disconnected (${e.code}); retrying…`;
    setTimeout(connect, 1000);
  };
  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') return line(`[binary ${(e.data as Blob).size} bytes]`);
    for (const frame of e.data.split('\n')) line(frame);
  };
}

document.getElementById('form')!.addEventListener('submit', (e) => {
  e.preventDefault();
  const channel = (document.getElementById('channel') as HTMLInputElement).value.trim();
  ws.send(JSON.stringify({ id: nextId++, op: 'subscribe', channel }));
});

connect();
