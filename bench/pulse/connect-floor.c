/*
 * Kernel floor for the pulse benchmark: the cheapest possible paced TCP connect checker
 * (non-blocking socket, SO_LINGER 0, connect, one epoll, close — no runtime around it).
 * Its CPU share shows how much of the checker's cost is the kernel's loopback TCP work.
 * Usage: connect-floor <connects-per-second> <seconds> <port>...   (prints one JSON line)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_ms(const struct timeval *a, const struct timeval *b) {
  return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_usec - a->tv_usec) / 1e3;
}

int main(int argc, char **argv) {
  if (argc < 4) return fprintf(stderr, "usage: %s rate seconds port...\n", argv[0]), 2;
  int rate = atoi(argv[1]), nports = argc - 3;
  double seconds = atof(argv[2]);
  int ep = epoll_create1(0);
  struct epoll_event events[1024];
  struct linger reset = {1, 0};
  long started = 0, ok = 0, failed = 0;
  struct rusage r0, r1;
  getrusage(RUSAGE_SELF, &r0);
  double t0 = now_ms();
  for (;;) {
    double elapsed = now_ms() - t0;
    if (elapsed > seconds * 1000) break;
    for (long due = (long)(elapsed * rate / 1000); started < due; started++) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3 + started % nports])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
      if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0) ok++, close(fd);
      else if (errno == EINPROGRESS) {
        struct epoll_event e = {.events = EPOLLOUT, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
      } else failed++, close(fd);
    }
    int n = epoll_wait(ep, events, 1024, 1);
    for (int i = 0; i < n; i++) {
      if (events[i].events & (EPOLLERR | EPOLLHUP)) failed++;
      else ok++;
      close(events[i].data.fd);
    }
  }
  getrusage(RUSAGE_SELF, &r1);
  double wall = now_ms() - t0, user = cpu_ms(&r0.ru_utime, &r1.ru_utime), sys = cpu_ms(&r0.ru_stime, &r1.ru_stime);
  printf("{\"connects_per_second\":%d,\"ok\":%ld,\"failed\":%ld,\"cpu_share\":%.3f,\"cpu_user_share\":%.3f,\"cpu_system_share\":%.3f}\n",
         rate, ok, failed, (user + sys) / wall, user / wall, sys / wall);
  return 0;
}
