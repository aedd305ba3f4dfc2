/* disk: finds virtio-mmio block devices on the command line (virtio_mmio.device=<size>@<base>:<irq>), drives
 * each through the version-2 transport with one polled split queue, and reports what it saw: identity,
 * capacity, read-only flag, sector contents, and the status of writes, a flush and out-of-range requests.
 * Devices are reported in order of their serial so both hypervisors' outputs compare line by line. */
#include "guest.h"

#define MAX_DEVICES 4
#define QUEUE_SIZE 8
#define SECTOR 512
/* virtio-mmio registers (virtio 1.2 section 4.2.2) */
#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_DRIVER_FEATURES 0x020
#define R_DRIVER_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_STATUS 0x070
#define R_QUEUE_DESC 0x080
#define R_QUEUE_DRIVER 0x090
#define R_QUEUE_DEVICE 0x0a0
#define R_CONFIG 0x100
#define MAGIC 0x74726976
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define F_RO (1u << 5)
#define F_FLUSH (1u << 9)
#define F_VERSION_1_HI 1u
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define D_NEXT 1
#define D_WRITE 2

struct desc { u64 addr; u32 len; u16 flags, next; };
struct queue {
    struct desc desc[QUEUE_SIZE] __attribute__((aligned(16)));
    struct { u16 flags, idx, ring[QUEUE_SIZE], used_event; } avail __attribute__((aligned(2)));
    struct { u16 flags, idx; struct { u32 id, len; } ring[QUEUE_SIZE]; u16 avail_event; } used __attribute__((aligned(4)));
};
struct device { u32 base; u16 last_used; u32 ro; u32 capacity; char id[21]; struct queue *q; };

static struct queue queues[MAX_DEVICES] __attribute__((aligned(4096)));
static struct device devices[MAX_DEVICES];
static struct { u32 type, reserved; u64 sector; } header;
static u8 status;
static u8 buffer[2 * SECTOR];

#define barrier() __asm__ volatile("" ::: "memory")

static u8 request(struct device *d, u32 type, u32 sector, void *data, u32 len) {
    struct queue *q = d->q;
    header.type = type;
    header.reserved = 0;
    header.sector = sector;
    status = 0xff;
    q->desc[0] = (struct desc){(u32)&header, sizeof(header), D_NEXT, 1};
    u16 last = 1;
    if (data) {
        q->desc[1] = (struct desc){(u32)data, len, (u16)(D_NEXT | (type == T_OUT ? 0 : D_WRITE)), 2};
        last = 2;
    }
    q->desc[last] = (struct desc){(u32)&status, 1, D_WRITE, 0};
    q->avail.ring[q->avail.idx % QUEUE_SIZE] = 0;
    barrier();
    q->avail.idx++;
    barrier();
    mmio_write32(d->base + R_QUEUE_NOTIFY, 0);
    while (*(volatile u16 *)&q->used.idx == d->last_used) {}
    d->last_used++;
    barrier();
    return status;
}

static int setup(struct device *d) {
    u32 b = d->base;
    if (mmio_read32(b + R_MAGIC) != MAGIC || mmio_read32(b + R_VERSION) != 2 || mmio_read32(b + R_DEVICE_ID) != 2)
        return 0;
    mmio_write32(b + R_STATUS, 0);
    mmio_write32(b + R_STATUS, S_ACK);
    mmio_write32(b + R_STATUS, S_ACK | S_DRIVER);
    mmio_write32(b + R_DEVICE_FEATURES_SEL, 0);
    u32 low = mmio_read32(b + R_DEVICE_FEATURES);
    mmio_write32(b + R_DEVICE_FEATURES_SEL, 1);
    if (!(mmio_read32(b + R_DEVICE_FEATURES) & F_VERSION_1_HI)) return 0;
    mmio_write32(b + R_DRIVER_FEATURES_SEL, 0);
    mmio_write32(b + R_DRIVER_FEATURES, low & (F_RO | F_FLUSH));
    mmio_write32(b + R_DRIVER_FEATURES_SEL, 1);
    mmio_write32(b + R_DRIVER_FEATURES, F_VERSION_1_HI);
    mmio_write32(b + R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(mmio_read32(b + R_STATUS) & S_FEATURES_OK)) return 0;
    mmio_write32(b + R_QUEUE_SEL, 0);
    if (mmio_read32(b + R_QUEUE_NUM_MAX) < QUEUE_SIZE) return 0;
    mmio_write32(b + R_QUEUE_NUM, QUEUE_SIZE);
    mmio_write32(b + R_QUEUE_DESC, (u32)d->q->desc);
    mmio_write32(b + R_QUEUE_DESC + 4, 0);
    mmio_write32(b + R_QUEUE_DRIVER, (u32)&d->q->avail);
    mmio_write32(b + R_QUEUE_DRIVER + 4, 0);
    mmio_write32(b + R_QUEUE_DEVICE, (u32)&d->q->used);
    mmio_write32(b + R_QUEUE_DEVICE + 4, 0);
    mmio_write32(b + R_QUEUE_READY, 1);
    mmio_write32(b + R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    d->ro = (low & F_RO) ? 1 : 0;
    d->capacity = mmio_read32(b + R_CONFIG);
    request(d, T_GET_ID, 0, d->id, 20);
    return 1;
}

static int before(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return (u8)*a < (u8)*b;
}

static void print_text(const u8 *p) {
    for (int i = 0; i < 64 && p[i] >= ' ' && p[i] < 127; i++) putc_((char)p[i]);
    putc_('\n');
}

static void report_status(const char *what, u8 s) {
    puts_(what);
    puts_(": status=");
    putu(s);
    putc_('\n');
}

static void exercise(struct device *d) {
    puts_("disk ");
    puts_(d->id);
    puts_(": capacity=");
    putu(d->capacity);
    puts_(" ro=");
    putu(d->ro);
    putc_('\n');
    u8 s = request(d, T_IN, 0, buffer, SECTOR);
    report_status("read sector 0", s);
    puts_("sector 0: ");
    print_text(buffer);
    for (u32 i = 0; i < SECTOR; i++) buffer[i] = 0;
    const char *message = "written by the guest to ";
    u32 n = 0;
    while (message[n]) { buffer[n] = (u8)message[n]; n++; }
    for (const char *p = d->id; *p; p++) buffer[n++] = (u8)*p;
    report_status("write sector 1", request(d, T_OUT, 1, buffer, SECTOR));
    report_status("flush", request(d, T_FLUSH, 0, 0, 0));
    for (u32 i = 0; i < SECTOR; i++) buffer[i] = 0;
    report_status("read sector 1", request(d, T_IN, 1, buffer, SECTOR));
    puts_("sector 1: ");
    print_text(buffer);
    report_status("read past the end", request(d, T_IN, d->capacity, buffer, SECTOR));
    report_status("read across the end", request(d, T_IN, d->capacity - 1, buffer, 2 * SECTOR));
    report_status("write past the end", request(d, T_OUT, d->capacity, buffer, SECTOR));
}

void guest_main(const struct hvm_start_info *info) {
    const char *s = (const char *)(u32)info->cmdline_paddr;
    int count = 0;
    static const char key[] = "virtio_mmio.device=";
    while (s && *s && count < MAX_DEVICES) {
        const char *k = key, *p = s;
        while (*k && *p == *k) { k++; p++; }
        if (!*k) {
            while (*p && *p != '@') p++;
            if (*p == '@') {
                devices[count].base = parse_u32(p + 1, 0);
                devices[count].q = &queues[count];
                if (setup(&devices[count])) count++;
                else puts_("a virtio-mmio device could not be set up\n");
            }
        }
        while (*s && *s != ' ') s++;
        while (*s == ' ') s++;
    }
    puts_("disks: ");
    putu((u32)count);
    putc_('\n');
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && before(devices[j].id, devices[j - 1].id); j--) {
            struct device t = devices[j]; devices[j] = devices[j - 1]; devices[j - 1] = t;
        }
    for (int i = 0; i < count; i++) exercise(&devices[i]);
    puts_("disk test done\n");
    poweroff(0);
}
