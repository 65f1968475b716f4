/* udpsend ADDR PORT TEXT: one UDP datagram carrying TEXT, from the qemu guest of
 * tests/system/profiles_libvirt_qemu.sh (busybox has no UDP sender). Built static. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) return 2;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) return 1;
    int r = sendto(s, argv[3], strlen(argv[3]), 0, (struct sockaddr *)&a, sizeof a) < 0;
    close(s);
    return r;
}
