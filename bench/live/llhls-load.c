/*
 * bench/live/llhls-load.c — a cheap LL-HLS viewer generator (one thread, epoll), compiled by the
 * live bench at run time with the system's `cc` (bench/live/c-generator.ts). It does exactly what
 * bench/live/viewer-process.ts does in `llhls` mode, without Node's per-request cost, so that 2,000
 * viewers (about 16,000 requests a second) can be generated from the core the server does not use:
 *
 *   each viewer joins at a random moment in the first second with one non-blocking playlist request
 *   (its duration is reported), then, for the part the playlist's preload hint names, sends at once
 *   the blocking playlist request (_HLS_msn/_HLS_part) on one keep-alive connection and the part on
 *   another, waits for both, reads the next hint from the playlist, and repeats until the deadline.
 *
 * usage: llhls-load HOST PORT BASEPATH PLAYLIST VIEWERS SECONDS FIRST
 * Prints one JSON object shaped as viewer-process's ViewerReport on stdout.
 * HTTP/1.1 with Content-Length bodies (what the server sends); anything else counts as a failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ROLE_PLAYLIST = 0, ROLE_PART = 1 };
enum { V_WAITING, V_JOINING, V_ROUND, V_PAUSED, V_DONE };

typedef struct {
  int fd;
  int viewer;
  int role;
  int connected;
  int busy; /* a request is in flight */
  char req[1024];
  int reqlen;
  char *hdr;
  int hdrlen;
  int in_body;
  long content_length;
  long received;
  int status;
  char *body; /* kept for playlists only */
  long bodylen, bodycap;
} Conn;

typedef struct {
  int id;
  int state;
  double start_at; /* join, or resume after a failed playlist */
  double join_sent;
  int msn, part;           /* the part this round asks for */
  int next_msn, next_part; /* the hint its playlist answer named */
  double sent_at;
  int pending;
  int playlist_failed;
  Conn conn[2];
} Viewer;

/* growable arrays of doubles */
typedef struct {
  double *v;
  long n, cap;
} Vec;
static void push(Vec *a, double x) {
  if (a->n == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 4096;
    a->v = realloc(a->v, a->cap * sizeof(double));
  }
  a->v[a->n++] = x;
}

static Vec playlist_arrivals, part_arrivals, playlist_ms; /* arrivals: 4 numbers each */
static long failures, requests, bytes_total;
static const char *kinds[8];
static long kind_counts[8];
static int nkinds;
static int ep;
static struct sockaddr_in addr;
static const char *host, *base, *playlist;
static char scratch[1 << 18];

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

static void fail(const char *kind) {
  failures++;
  for (int i = 0; i < nkinds; i++)
    if (strcmp(kinds[i], kind) == 0) {
      kind_counts[i]++;
      return;
    }
  if (nkinds < 8) {
    kinds[nkinds] = kind;
    kind_counts[nkinds++] = 1;
  }
}

static void conn_close(Conn *c) {
  if (c->fd >= 0) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  c->fd = -1;
  c->connected = 0;
}

static void reset_response(Conn *c) {
  c->hdrlen = 0;
  c->in_body = 0;
  c->content_length = -1;
  c->received = 0;
  c->status = 0;
  c->bodylen = 0;
}

static int write_request(Conn *c) {
  ssize_t n = write(c->fd, c->req, c->reqlen);
  return n == c->reqlen ? 0 : -1;
}

static void on_done(Viewer *v, Conn *c, int ok);

/* Sends c->req on c, connecting first when needed. */
static void send_request(Viewer *v, Conn *c) {
  reset_response(c);
  c->busy = 1;
  requests++;
  if (c->fd >= 0 && c->connected) {
    if (write_request(c) == 0) return;
    conn_close(c); /* the server closed the keep-alive connection: reconnect once */
  }
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct epoll_event e = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
  if (c->fd < 0 || (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) || epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) < 0) {
    conn_close(c);
    on_done(v, c, 0);
  }
}

static void format(Conn *c, const char *query) {
  c->reqlen = snprintf(c->req, sizeof c->req, "GET %s/%s HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n", base, query, host);
}

static Viewer *viewers;
static int nviewers;
static double deadline;

static void start_round(Viewer *v) {
  double now = now_ms();
  if (now >= deadline) {
    v->state = V_DONE;
    conn_close(&v->conn[0]);
    conn_close(&v->conn[1]);
    return;
  }
  char q[512];
  v->state = V_ROUND;
  v->sent_at = now;
  v->pending = 2;
  v->playlist_failed = 0;
  snprintf(q, sizeof q, "%s?_HLS_msn=%d&_HLS_part=%d&viewer=load%d", playlist, v->msn, v->part, v->id);
  format(&v->conn[0], q);
  snprintf(q, sizeof q, "seg-%d.%d.m4s", v->msn, v->part);
  format(&v->conn[1], q);
  send_request(v, &v->conn[0]);
  if (v->state == V_ROUND) send_request(v, &v->conn[1]);
}

static void join(Viewer *v) {
  char q[512];
  v->state = V_JOINING;
  v->join_sent = now_ms();
  snprintf(q, sizeof q, "%s?viewer=load%d", playlist, v->id);
  format(&v->conn[0], q);
  send_request(v, &v->conn[0]);
}

/* Reads the preload hint's part from a playlist body; 0 when there is none. */
static int read_hint(Conn *c, int *msn, int *part) {
  if (!c->body) return 0;
  c->body[c->bodylen] = 0;
  const char *h = strstr(c->body, "PRELOAD-HINT:TYPE=PART,URI=\"seg-");
  return h && sscanf(h + strlen("PRELOAD-HINT:TYPE=PART,URI=\"seg-"), "%d.%d", msn, part) == 2;
}

static void on_done(Viewer *v, Conn *c, int ok) {
  double at = now_ms();
  c->busy = 0;
  if (v->state == V_JOINING) {
    if (!ok || c->status != 200) {
      fail("playlist");
      v->state = V_DONE;
      return;
    }
    push(&playlist_ms, at - v->join_sent);
    if (!read_hint(c, &v->msn, &v->part)) {
      fail("no_hint");
      v->state = V_DONE;
      return;
    }
    start_round(v);
    return;
  }
  if (v->state == V_PAUSED) { /* the non-blocking refetch after a failed blocking playlist */
    if (ok && c->status == 200) read_hint(c, &v->next_msn, &v->next_part);
    v->msn = v->next_msn, v->part = v->next_part;
    start_round(v);
    return;
  }
  if (c->role == ROLE_PART) {
    if (ok && c->status == 200) {
      Vec *a = &part_arrivals;
      push(a, v->msn), push(a, v->part), push(a, at), push(a, v->sent_at);
    } else fail(ok ? "part_status" : "part_error");
  } else if (ok && c->status == 200 && read_hint(c, &v->next_msn, &v->next_part)) {
    Vec *a = &playlist_arrivals;
    push(a, v->msn), push(a, v->part), push(a, at), push(a, v->sent_at);
  } else {
    fail(ok ? "playlist_status" : "playlist_error");
    v->playlist_failed = 1;
  }
  if (--v->pending > 0) return;
  if (v->playlist_failed) {
    /* as viewer-process does: wait 250 ms, then a non-blocking playlist for a fresh hint */
    v->state = V_PAUSED;
    v->start_at = at + 250;
    return;
  }
  v->msn = v->next_msn, v->part = v->next_part;
  start_round(v);
}

/* Feeds bytes read from c; returns 1 when its response is complete, -1 on a protocol error. */
static int feed(Conn *c, const char *p, long n) {
  if (!c->in_body) {
    long take = n;
    if (c->hdrlen + take > 16384) return -1;
    memcpy(c->hdr + c->hdrlen, p, take);
    c->hdrlen += take;
    c->hdr[c->hdrlen] = 0;
    char *end = strstr(c->hdr, "\r\n\r\n");
    if (!end) return 0;
    long head = end + 4 - c->hdr;
    if (sscanf(c->hdr, "HTTP/1.%*d %d", &c->status) != 1) return -1;
    char *cl = strcasestr(c->hdr, "\r\ncontent-length:");
    if (!cl || end < cl) return -1;
    c->content_length = strtol(cl + 17, NULL, 10);
    c->in_body = 1;
    long rest = c->hdrlen - head;
    p = c->hdr + head;
    n = rest;
    /* the body's first bytes came with the header: handled below from the header buffer */
    if (c->role == ROLE_PLAYLIST && n > 0) {
      if (c->bodycap < n + 1) c->body = realloc(c->body, c->bodycap = n + 65536);
      memcpy(c->body, p, n);
      c->bodylen = n;
    }
    c->received = n;
    bytes_total += n;
    return c->received >= c->content_length ? 1 : 0;
  }
  if (c->role == ROLE_PLAYLIST) {
    if (c->bodycap < c->bodylen + n + 1) c->body = realloc(c->body, c->bodycap = c->bodylen + n + 65536);
    memcpy(c->body + c->bodylen, p, n);
    c->bodylen += n;
  }
  c->received += n;
  bytes_total += n;
  return c->received >= c->content_length ? 1 : 0;
}

static void on_event(Conn *c, unsigned events) {
  Viewer *v = &viewers[c->viewer];
  if (!c->connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err || write_request(c) != 0) {
      conn_close(c);
      if (c->busy) on_done(v, c, 0);
      return;
    }
    c->connected = 1;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
    return;
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  for (;;) {
    /* Headers are read a little at a time so a body's bytes never land in the header buffer twice. */
    long want = c->in_body ? (long)sizeof scratch : 16384 - c->hdrlen;
    if (c->in_body && c->content_length - c->received < want) want = c->content_length - c->received;
    if (want <= 0) want = 1;
    ssize_t n = read(c->fd, scratch, want);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      int was_busy = c->busy;
      conn_close(c);
      if (was_busy) on_done(v, c, 0);
      return;
    }
    if (!c->busy) continue; /* bytes nobody asked for: ignored */
    int r = feed(c, scratch, n);
    if (r < 0) {
      conn_close(c);
      on_done(v, c, 0);
      return;
    }
    if (r == 1) {
      on_done(v, c, 1);
      return; /* the next request (if any) was sent by on_done; its answer comes in a later event */
    }
  }
}

static double wait_seconds(void) {
  FILE *f = fopen("/proc/self/schedstat", "r");
  unsigned long long run = 0, wait = 0;
  if (f) {
    if (fscanf(f, "%llu %llu", &run, &wait) != 2) wait = 0;
    fclose(f);
  }
  return wait / 1e9;
}

static void print_vec(const char *name, Vec *a, int group) {
  printf("\"%s\":[", name);
  for (long i = 0; i < a->n; i += group) {
    if (i) putchar(',');
    if (group == 1) printf("%.3f", a->v[i]);
    else printf("[%.0f,%.0f,%.3f,%.3f]", a->v[i], a->v[i + 1], a->v[i + 2], a->v[i + 3]);
  }
  printf("],");
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: llhls-load HOST PORT BASEPATH PLAYLIST VIEWERS SECONDS FIRST\n");
    return 2;
  }
  host = argv[1];
  base = argv[3];
  playlist = argv[4];
  nviewers = atoi(argv[5]);
  double seconds = atof(argv[6]);
  int first = atoi(argv[7]);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(atoi(argv[2]));
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "llhls-load: HOST must be an IPv4 address\n");
    return 2;
  }
  struct rlimit lim = {65536, 65536};
  setrlimit(RLIMIT_NOFILE, &lim);
  ep = epoll_create1(0);
  viewers = calloc(nviewers, sizeof(Viewer));
  srand(first + 1);
  double t0 = now_ms();
  deadline = t0 + seconds * 1000;
  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  double wait0 = wait_seconds();
  for (int i = 0; i < nviewers; i++) {
    Viewer *v = &viewers[i];
    v->id = first + i;
    v->state = V_WAITING;
    v->start_at = t0 + (rand() % 1000); /* viewers join over a second, not in one millisecond */
    for (int k = 0; k < 2; k++) {
      Conn *c = &v->conn[k];
      c->fd = -1;
      c->viewer = i;
      c->role = k;
      c->hdr = malloc(16385);
    }
  }
  struct epoll_event events[512];
  for (;;) {
    double now = now_ms();
    int active = 0;
    double next = now + 50;
    for (int i = 0; i < nviewers; i++) {
      Viewer *v = &viewers[i];
      if (v->state == V_DONE) continue;
      active = 1;
      if ((v->state == V_WAITING || v->state == V_PAUSED) && v->start_at <= now) {
        if (v->state == V_WAITING) join(v);
        else {
          char q[512];
          snprintf(q, sizeof q, "%s?viewer=load%d", playlist, v->id);
          format(&v->conn[0], q);
          v->next_msn = v->msn, v->next_part = v->part;
          send_request(v, &v->conn[0]);
        }
      } else if ((v->state == V_WAITING || v->state == V_PAUSED) && v->start_at < next) next = v->start_at;
    }
    if (!active) break;
    /* a held request may outlive the deadline by up to three part targets: give up 15 s after it */
    if (now > deadline + 15000) {
      for (int i = 0; i < nviewers; i++)
        for (int k = 0; k < 2; k++)
          if (viewers[i].conn[k].busy) fail("timeout");
      break;
    }
    int timeout = (int)(next - now);
    if (timeout < 1) timeout = 1;
    int n = epoll_wait(ep, events, 512, timeout);
    for (int i = 0; i < n; i++) on_event(events[i].data.ptr, events[i].events);
  }
  getrusage(RUSAGE_SELF, &ru1);
  double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 + (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) + (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
  putchar('{');
  print_vec("playlistArrivals", &playlist_arrivals, 4);
  print_vec("partArrivals", &part_arrivals, 4);
  print_vec("playlistMs", &playlist_ms, 1);
  printf("\"segmentMs\":[],\"failures\":%ld,\"failureKinds\":{", failures);
  for (int i = 0; i < nkinds; i++) printf("%s\"%s\":%ld", i ? "," : "", kinds[i], kind_counts[i]);
  printf("},\"requests\":%ld,\"bytes\":%ld,\"cpuSeconds\":%.4f,\"waitSeconds\":%.4f}\n", requests, bytes_total, cpu, wait_seconds() - wait0);
  return 0;
}
