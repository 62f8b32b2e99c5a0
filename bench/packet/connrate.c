/*
 * The packet-path benchmark's traffic (bench/packet-path.ts), compiled with the machine's cc at bench time.
 *   connrate server PORT            accept and close connections until killed
 *   connrate client ADDR PORT MS    open and close connections one after another for MS milliseconds, then
 *                                   print how many completed and how many failed
 * The client closes with SO_LINGER 0 (a reset): no TIME_WAIT, so ephemeral ports never run out and every
 * connection is a new one for conntrack and the firewall.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int server(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 4096) != 0) {
    perror("listen");
    return 1;
  }
  printf("listening\n");
  fflush(stdout);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c >= 0) close(c);
  }
}

static int client(const char *address, int port, double duration) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, address, &addr.sin_addr) != 1) {
    fprintf(stderr, "bad address %s\n", address);
    return 2;
  }
  struct linger reset = {.l_onoff = 1, .l_linger = 0};
  struct timeval timeout = {.tv_sec = 1, .tv_usec = 0};
  long done = 0, failed = 0;
  double end = now_ms() + duration;
  while (now_ms() < end) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) done++;
    else failed++;
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(fd);
  }
  printf("%ld %ld\n", done, failed);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "server") == 0) return server(atoi(argv[2]));
  if (argc == 5 && strcmp(argv[1], "client") == 0) return client(argv[2], atoi(argv[3]), atof(argv[4]));
  fprintf(stderr, "usage: connrate server PORT | connrate client ADDR PORT MS\n");
  return 2;
}
