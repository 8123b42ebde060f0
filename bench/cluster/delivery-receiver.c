/*
 * bench/cluster/delivery-receiver.c — the cluster bench's receiver in C (one thread, epoll), built
 * at bench time with the system's `cc` (bench/cluster/c-receiver.ts). It holds many Airwaves
 * subscriber connections and checks every message delivered exactly as bench/shared/delivery-check.ts
 * does: per client the messages of the current step, whether each came right after the previous one
 * (sequence + 1), messages of an earlier step counted stale, publish→arrival latency in the same
 * fixed-bucket histogram as bench/hub/histogram.ts, lost and duplicated read off the counts against
 * what was published.
 *
 * Why C: at the 3-node saturation (39,000 deliveries/s) the Node receivers took 45–57 % of a core,
 * 41 % of that in Node's per-read call into JavaScript (cluster7's perf profile). Here a read costs
 * one read(2) and a byte scan.
 *
 * The coordinator speaks to it in lines on stdin, one JSON line answered on stdout per command, in
 * order (c-receiver.ts sends one command at a time):
 *   connect HOST PORT PATH CONCURRENCY CHANNEL...   one client per CHANNEL ("-": idle), added to
 *                                                   those open; → {"connected":N} or {"error":"..."}
 *   step N                                          → {"ok":true}, every count from zero
 *   progress                                        → {"received":N,"frames":N,"connected":N}
 *   report CHANNEL=PUBLISHED...                     → bench/hub/ipc.ts ReceiverReport
 *   close                                           → {"ok":true}, then exits
 * End of stdin (the coordinator gone) exits too.
 *
 * WebSocket (RFC 6455) client side: the opening handshake (101 required), unmasked server frames
 * walked in place, several per read; a frame split across reads is kept until whole; ping answered
 * with a masked pong; close ends the connection. No extensions, no fragments (the hub sends neither).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

/* bench/hub/histogram.ts's buckets: 10 µs up to 100 ms, then 1 ms up to 60 s, then one overflow bucket. */
#define FINE_US 10
#define FINE_LIMIT_US 100000
#define COARSE_US 1000
#define COARSE_LIMIT_US 60000000LL
#define FINE_BUCKETS (FINE_LIMIT_US / FINE_US)
#define BUCKETS (FINE_BUCKETS + (int)((COARSE_LIMIT_US - FINE_LIMIT_US) / COARSE_US) + 1)
#define READY_TIMEOUT_US 30000000LL

enum { C_CONNECTING, C_UPGRADING, C_SUBSCRIBING, C_READY, C_CLOSED };
enum { OP_TEXT = 1, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

typedef struct {
  int fd;
  int state;
  int channel; /* index into channels[], -1: idle */
  int64_t opened_us;
  unsigned char *pending; /* the head before the upgrade, then an incomplete frame */
  size_t pending_len, pending_cap;
} Conn;

static Conn *conns;
static int nconns, conns_cap;
static char **channels;
static int nchannels;

/* The check's state (DeliveryCheck's fields). */
static int32_t *counts;
static int64_t *last_seq;
static int64_t step;
static int64_t received, out_of_order, stale, frames;
static int64_t hist[BUCKETS];
static int64_t hist_count, hist_max_us;
static double hist_sum_us;

/* The connect command in progress. */
static int connecting;
static int batch_start, batch_next, batch_end, in_flight, concurrency;
static struct sockaddr_in target;
static char target_host[256];
static char target_path[1024];
static int epfd;

static unsigned char *scratch;
static size_t scratch_cap = 1 << 20;

static int64_t monotonic_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void reply(const char *json) {
  fputs(json, stdout);
  fputc('\n', stdout);
  fflush(stdout);
}

static void reply_error(const char *what, int client) {
  char line[512];
  snprintf(line, sizeof line, "{\"error\":\"client %d: %s\"}", client, what);
  reply(line);
}

static void *grow(void *p, size_t bytes) {
  void *q = realloc(p, bytes);
  if (!q) {
    fprintf(stderr, "delivery-receiver: out of memory\n");
    exit(2);
  }
  return q;
}

static void record(int64_t us) {
  if (us < 0) us = 0; /* clock jitter between processes can make a tiny negative */
  int i;
  if (us < FINE_LIMIT_US) i = (int)(us / FINE_US);
  else if (us < COARSE_LIMIT_US) i = FINE_BUCKETS + (int)((us - FINE_LIMIT_US) / COARSE_US);
  else i = BUCKETS - 1;
  hist[i]++;
  hist_count++;
  hist_sum_us += (double)us;
  if (us > hist_max_us) hist_max_us = us;
}

/* The decimal digits at *at (none: 0), leaving *at on the first byte after them. */
static int64_t read_number(const unsigned char *buf, size_t *at, size_t end) {
  int64_t n = 0;
  size_t j = *at;
  while (j < end && buf[j] >= '0' && buf[j] <= '9') n = n * 10 + (buf[j++] - '0');
  *at = j;
  return n;
}

static void message(int client, int64_t msg_step, int64_t seq, int64_t latency_us) {
  if (msg_step != step) {
    stale++;
    return;
  }
  counts[client]++;
  received++;
  if (seq != last_seq[client] + 1) out_of_order++;
  last_seq[client] = seq;
  record(latency_us);
}

/*
 * Every benchmark message in buf[start, end): found by the `{"r":` marker, then r, s and t read at
 * their places in `{"r":N,"s":N,"t":N` (bench/hub/wire.ts dataJson). The separators `,"s":` and
 * `,"t":` are 5 bytes each.
 */
static void check_frame(int client, const unsigned char *buf, size_t start, size_t end, int64_t arrival_us) {
  static const char MARK[] = "{\"r\":";
  const size_t mark_len = sizeof MARK - 1;
  frames++;
  size_t i = start;
  for (;;) {
    const unsigned char *m = memmem(buf + i, end - i, MARK, mark_len);
    if (!m) return;
    size_t j = (size_t)(m - buf) + mark_len;
    int64_t msg_step = read_number(buf, &j, end);
    j += 5;
    int64_t seq = j < end ? read_number(buf, &j, end) : 0;
    j += 5;
    int64_t t_us = j < end ? read_number(buf, &j, end) : 0;
    message(client, msg_step, seq, arrival_us - t_us);
    if (j >= end) return;
    i = j;
  }
}

/* Sends one masked client frame; the hub's frames from us are tiny, so one write(2) takes them. */
static int send_frame(Conn *c, int opcode, const unsigned char *payload, size_t len) {
  unsigned char out[256];
  if (len > sizeof out - 8 || len >= 126) return -1;
  uint32_t key = (uint32_t)rand();
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | (unsigned char)len;
  memcpy(out + 2, &key, 4);
  for (size_t i = 0; i < len; i++) out[6 + i] = payload[i] ^ out[2 + (i & 3)];
  return write(c->fd, out, 6 + len) == (ssize_t)(6 + len) ? 0 : -1;
}

static void close_conn(Conn *c) {
  if (c->state == C_CLOSED) return;
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->state = C_CLOSED;
  free(c->pending);
  c->pending = NULL;
  c->pending_len = c->pending_cap = 0;
}

static void keep_pending(Conn *c, const unsigned char *bytes, size_t len) {
  if (len > c->pending_cap) {
    c->pending_cap = len < 4096 ? 4096 : len;
    c->pending = grow(c->pending, c->pending_cap);
  }
  memmove(c->pending, bytes, len);
  c->pending_len = len;
}

static void open_more(void);

/* A client of the connect batch is ready (or failed: the batch is answered with the error). */
static void settled(int client, const char *error) {
  if (!connecting || client < batch_start) return; /* after the batch was answered */
  in_flight--;
  if (error) {
    connecting = 0;
    reply_error(error, client);
    return;
  }
  open_more();
}

/* A text frame before the client is ready: the answer to its subscribe. */
static void on_handshake_text(int client, Conn *c, const unsigned char *p, size_t len) {
  static const char OK[] = "{\"id\":1,\"ok\":true";
  static const char REFUSED[] = "{\"id\":1,\"ok\":false";
  if (len >= sizeof OK - 1 && memcmp(p, OK, sizeof OK - 1) == 0) {
    c->state = C_READY;
    settled(client, NULL);
  } else if (len >= sizeof REFUSED - 1 && memcmp(p, REFUSED, sizeof REFUSED - 1) == 0) {
    settled(client, "subscribe refused");
  }
}

/* Walks whole frames of buf[0, end); keeps an incomplete one. Returns -1 when the connection ended. */
static int walk_frames(int client, const unsigned char *buf, size_t end, int64_t arrival_us) {
  Conn *c = &conns[client];
  size_t pos = 0;
  while (pos < end) {
    if (end - pos < 2) break;
    unsigned b1 = buf[pos + 1];
    uint64_t len = b1 & 0x7f;
    size_t header = 2;
    if (len == 126) {
      header = 4;
      if (end - pos < header) break;
      len = ((uint64_t)buf[pos + 2] << 8) | buf[pos + 3];
    } else if (len == 127) {
      header = 10;
      if (end - pos < header) break;
      len = 0;
      for (int k = 0; k < 8; k++) len = (len << 8) | buf[pos + 2 + k];
    }
    if (b1 & 0x80) header += 4; /* a masked server frame is a protocol error, but skip the key safely */
    if (end - pos < header + len) break;
    int opcode = buf[pos] & 0x0f;
    size_t start = pos + header, stop = pos + header + (size_t)len;
    if (opcode == OP_PING) send_frame(c, OP_PONG, buf + start, stop - start);
    else if (opcode == OP_CLOSE) {
      close_conn(c);
      return -1;
    } else if (opcode != OP_PONG) {
      if (c->state == C_READY) check_frame(client, buf, start, stop, arrival_us);
      else {
        frames++;
        if (opcode == OP_TEXT) on_handshake_text(client, c, buf + start, stop - start);
        if (c->state == C_CLOSED) return -1;
      }
    }
    pos = stop;
  }
  keep_pending(c, buf + pos, end - pos);
  return 0;
}

/* The HTTP response head: 101 and the end of the head, then whatever frames came with it. */
static int on_upgrade_bytes(int client, const unsigned char *buf, size_t end, int64_t arrival_us) {
  Conn *c = &conns[client];
  const unsigned char *head_end = memmem(buf, end, "\r\n\r\n", 4);
  if (!head_end) {
    keep_pending(c, buf, end);
    return 0;
  }
  if (end < 13 || memcmp(buf, "HTTP/1.1 101 ", 13) != 0) {
    close_conn(c);
    settled(client, "WebSocket handshake refused");
    return -1;
  }
  if (c->channel < 0) {
    c->state = C_READY; /* an idle client is ready once upgraded */
    settled(client, NULL);
  } else {
    char sub[200];
    int n = snprintf(sub, sizeof sub, "{\"id\":1,\"op\":\"subscribe\",\"channel\":\"%s\"}", channels[c->channel]);
    c->state = C_SUBSCRIBING;
    if (n >= (int)sizeof sub || send_frame(c, OP_TEXT, (const unsigned char *)sub, (size_t)n) < 0) {
      close_conn(c);
      settled(client, "subscribe could not be sent");
      return -1;
    }
  }
  size_t used = (size_t)(head_end - buf) + 4;
  return walk_frames(client, buf + used, end - used, arrival_us);
}

/* One read(2) into the scratch buffer behind whatever was kept from earlier reads. */
static void on_readable(int client) {
  Conn *c = &conns[client];
  if (c->pending_len + 65536 > scratch_cap) {
    scratch_cap = (c->pending_len + 65536) * 2;
    scratch = grow(scratch, scratch_cap);
  }
  if (c->pending_len) memcpy(scratch, c->pending, c->pending_len);
  ssize_t n = read(c->fd, scratch + c->pending_len, scratch_cap - c->pending_len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    int was = c->state;
    close_conn(c);
    if (was != C_READY) settled(client, n == 0 ? "connection closed before ready" : strerror(errno));
    return;
  }
  int64_t arrival_us = monotonic_us();
  size_t end = c->pending_len + (size_t)n;
  if (c->state == C_UPGRADING) on_upgrade_bytes(client, scratch, end, arrival_us);
  else walk_frames(client, scratch, end, arrival_us);
}

static void on_connected(int client) {
  Conn *c = &conns[client];
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) {
    close_conn(c);
    settled(client, strerror(err));
    return;
  }
  unsigned char raw[16];
  for (int i = 0; i < 16; i++) raw[i] = (unsigned char)rand();
  static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char key[25];
  for (int i = 0, o = 0; i < 16; i += 3) {
    unsigned v = raw[i] << 16 | (i + 1 < 16 ? raw[i + 1] << 8 : 0) | (i + 2 < 16 ? raw[i + 2] : 0);
    key[o++] = B64[v >> 18 & 63];
    key[o++] = B64[v >> 12 & 63];
    key[o++] = i + 1 < 16 ? B64[v >> 6 & 63] : '=';
    key[o++] = i + 2 < 16 ? B64[v & 63] : '=';
  }
  key[24] = 0;
  char req[1600];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                   target_path, target_host, ntohs(target.sin_port), key);
  if (write(c->fd, req, (size_t)n) != n) {
    close_conn(c);
    settled(client, "handshake request could not be sent");
    return;
  }
  c->state = C_UPGRADING;
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)client};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void open_client(int client) {
  Conn *c = &conns[client];
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  c->opened_us = monotonic_us();
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->state = C_CONNECTING;
  in_flight++;
  if (connect(c->fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) {
    close(c->fd);
    c->state = C_CLOSED;
    settled(client, strerror(errno));
    return;
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)client};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static int connected_count(void) {
  int n = 0;
  for (int i = 0; i < nconns; i++) n += conns[i].state == C_READY;
  return n;
}

/* Bounded concurrency: a burst of thousands of handshakes would overflow the server's accept backlog. */
static void open_more(void) {
  while (connecting && in_flight < concurrency && batch_next < batch_end) open_client(batch_next++);
  if (connecting && in_flight == 0 && batch_next == batch_end) {
    connecting = 0;
    char line[64];
    snprintf(line, sizeof line, "{\"connected\":%d}", connected_count());
    reply(line);
  }
}

static int channel_index(const char *name) {
  for (int i = 0; i < nchannels; i++)
    if (strcmp(channels[i], name) == 0) return i;
  channels = grow(channels, sizeof(char *) * (size_t)(nchannels + 1));
  channels[nchannels] = strdup(name);
  return nchannels++;
}

static void cmd_connect(char *args) {
  char *save = NULL;
  char *host = strtok_r(args, " ", &save), *port = strtok_r(NULL, " ", &save);
  char *path = strtok_r(NULL, " ", &save), *conc = strtok_r(NULL, " ", &save);
  if (!host || !port || !path || !conc || strlen(host) >= sizeof target_host || strlen(path) >= sizeof target_path) {
    reply("{\"error\":\"connect: HOST PORT PATH CONCURRENCY CHANNEL... expected\"}");
    return;
  }
  memset(&target, 0, sizeof target);
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)atoi(port));
  if (inet_pton(AF_INET, host, &target.sin_addr) != 1) {
    reply("{\"error\":\"connect: HOST must be an IPv4 address\"}");
    return;
  }
  strcpy(target_host, host);
  strcpy(target_path, path);
  concurrency = atoi(conc) > 0 ? atoi(conc) : 1;
  batch_start = batch_next = nconns;
  for (char *ch = strtok_r(NULL, " ", &save); ch; ch = strtok_r(NULL, " ", &save)) {
    if (nconns == conns_cap) {
      conns_cap = conns_cap ? conns_cap * 2 : 1024;
      conns = grow(conns, sizeof(Conn) * (size_t)conns_cap);
      counts = grow(counts, sizeof(int32_t) * (size_t)conns_cap);
      last_seq = grow(last_seq, sizeof(int64_t) * (size_t)conns_cap);
    }
    Conn *c = &conns[nconns];
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->state = C_CLOSED;
    c->channel = strcmp(ch, "-") == 0 ? -1 : channel_index(ch);
    counts[nconns] = 0;
    last_seq[nconns] = 0;
    nconns++;
  }
  batch_end = nconns;
  in_flight = 0;
  connecting = 1;
  open_more();
}

static void cmd_step(int64_t s) {
  step = s;
  memset(counts, 0, sizeof(int32_t) * (size_t)nconns);
  memset(last_seq, 0, sizeof(int64_t) * (size_t)nconns);
  memset(hist, 0, sizeof hist);
  hist_count = hist_max_us = 0;
  hist_sum_us = 0;
  received = out_of_order = stale = frames = 0;
  reply("{\"ok\":true}");
}

/* Lost and duplicated against what was published per channel (DeliveryCheck.report). */
static void cmd_report(char *args) {
  int64_t *expected = calloc((size_t)nchannels + 1, sizeof(int64_t));
  char *save = NULL;
  for (char *item = strtok_r(args, " ", &save); item; item = strtok_r(NULL, " ", &save)) {
    char *eq = strrchr(item, '=');
    if (!eq) continue;
    *eq = 0;
    for (int i = 0; i < nchannels; i++)
      if (strcmp(channels[i], item) == 0) expected[i] = atoll(eq + 1);
  }
  int64_t lost = 0, duplicated = 0;
  for (int i = 0; i < nconns; i++) {
    if (conns[i].channel < 0) continue;
    int64_t want = expected[conns[i].channel];
    if (counts[i] < want) lost += want - counts[i];
    else duplicated += counts[i] - want;
  }
  free(expected);
  printf("{\"clients\":%d,\"connected\":%d,\"received\":%lld,\"lost\":%lld,\"duplicated\":%lld,\"outOfOrder\":%lld,"
         "\"stale\":%lld,\"frames\":%lld,\"histogram\":{\"pairs\":[",
         nconns, connected_count(), (long long)received, (long long)lost, (long long)duplicated, (long long)out_of_order,
         (long long)stale, (long long)frames);
  int first = 1;
  for (int i = 0; i < BUCKETS; i++)
    if (hist[i]) {
      printf("%s[%d,%lld]", first ? "" : ",", i, (long long)hist[i]);
      first = 0;
    }
  printf("],\"count\":%lld,\"maxUs\":%lld,\"sumUs\":%.0f}}\n", (long long)hist_count, (long long)hist_max_us, hist_sum_us);
  fflush(stdout);
}

/* One command line; returns 1 when the process must exit. */
static int command(char *line) {
  if (strncmp(line, "connect ", 8) == 0) cmd_connect(line + 8);
  else if (strncmp(line, "step ", 5) == 0) cmd_step(atoll(line + 5));
  else if (strcmp(line, "progress") == 0) {
    char out[160];
    snprintf(out, sizeof out, "{\"received\":%lld,\"frames\":%lld,\"connected\":%d}", (long long)received, (long long)frames, connected_count());
    reply(out);
  } else if (strncmp(line, "report", 6) == 0) cmd_report(line + 6);
  else if (strcmp(line, "close") == 0) {
    for (int i = 0; i < nconns; i++) close_conn(&conns[i]);
    reply("{\"ok\":true}");
    return 1;
  } else {
    char out[160];
    snprintf(out, sizeof out, "{\"error\":\"unknown command \\\"%.40s\\\"\"}", line);
    reply(out);
  }
  return 0;
}

int main(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  srand((unsigned)monotonic_us() ^ (unsigned)getpid());
  scratch = grow(NULL, scratch_cap);
  epfd = epoll_create1(0);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
  epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);
  char *in = NULL;
  size_t in_len = 0, in_cap = 0;
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(epfd, events, 256, connecting ? 100 : 1000);
    for (int e = 0; e < n; e++) {
      uint32_t id = events[e].data.u32;
      if (id == UINT32_MAX) {
        if (in_cap - in_len < 65536) in = grow(in, in_cap = in_cap * 2 + 65536);
        ssize_t r = read(0, in + in_len, in_cap - in_len);
        if (r == 0) return 0; /* the coordinator went away */
        if (r > 0) in_len += (size_t)r;
        continue;
      }
      Conn *c = &conns[id];
      if (c->state == C_CLOSED) continue;
      if (c->state == C_CONNECTING) on_connected((int)id);
      else on_readable((int)id);
    }
    /* Commands wait while a connect is answered: one answer per command, in order. */
    while (!connecting) {
      char *nl = in ? memchr(in, '\n', in_len) : NULL;
      if (!nl) break;
      *nl = 0;
      if (command(in)) return 0;
      size_t used = (size_t)(nl - in) + 1;
      memmove(in, in + used, in_len - used);
      in_len -= used;
    }
    if (connecting) {
      int64_t now = monotonic_us();
      for (int i = batch_start; connecting && i < batch_next; i++)
        if (conns[i].state != C_READY && conns[i].state != C_CLOSED && now - conns[i].opened_us > READY_TIMEOUT_US) {
          close_conn(&conns[i]);
          settled(i, "not ready after 30 s");
        }
    }
  }
}
