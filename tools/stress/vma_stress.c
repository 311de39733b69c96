// SPDX-License-Identifier: GPL-2.0
/*
 * vma_stress - hammer the per-VMA lock paths from userspace.
 *
 * Stress mode: fault threads read and write pages of a shared region while
 * mutator threads munmap/mmap, mprotect, mremap and madvise(MADV_DONTNEED)
 * parts of it, so that page faults take and drop VMA read locks (under RCU)
 * while VMAs are write-locked, split, merged and detached next to them.
 * Each fault thread owns one 64-byte slot in every page and checks that what
 * it wrote reads back: either the value itself or zero (the page was zapped
 * or replaced meanwhile); anything else is corruption. A private region per
 * fault thread is filled, checked, zapped and checked again exactly.
 *
 * Bench mode: one thread times a fixed number of write faults on a single
 * anonymous VMA (first touch after MADV_DONTNEED), for comparing kernels
 * booted under QEMU -icount, where guest time counts instructions.
 *
 * Both modes print the per-VMA lock counters of /proc/vmstat (with
 * CONFIG_PER_VMA_LOCK_STATS) and end with a PASS or FAIL line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/* Accesses the compiler must neither merge, move nor drop. */
#define READ_ONCE(x)	(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

typedef uint64_t u64;

#define SLOT_BYTES	64
#define MAX_FAULTERS	64	/* one slot each in a 4 KiB page */
#define MAX_MUTATORS	16
#define MAX_CHUNK	16	/* pages a mutator changes at once */
#define PRIVATE_PAGES	32

enum op { OP_REMAP, OP_REPLACE, OP_PROTECT, OP_MOVE, OP_ZAP, NR_OPS };

static const char * const op_names[NR_OPS] = {
	"munmap+mmap", "mmap-fixed", "mprotect", "mremap", "madvise-dontneed",
};

static const char * const vmstat_names[] = {
	"vma_lock_success", "vma_lock_abort", "vma_lock_retry", "vma_lock_miss",
};

#define NR_VMSTAT ARRAY_SIZE(vmstat_names)

struct faulter {
	pthread_t thread;
	unsigned int id;
	u64 *last;		/* last value written, per shared page */
	char *priv;		/* PRIVATE_PAGES pages of its own */
	unsigned long accesses, verified, zapped, segv;
	char failure[160];
};

struct mutator {
	pthread_t thread;
	unsigned int id;
	unsigned long first, pages;	/* its slice of the shared region */
	unsigned long ops[NR_OPS];
	unsigned long skipped;	/* mremap refused: range spans VMAs */
	char failure[160];
};

static long page_size;
static char *shared;		/* the region everyone faults on */
static char *scratch;		/* where mremap moves pieces to, and back */
static unsigned long shared_pages = 512;
static int inject;		/* -X: corrupt a slot, to prove the checks work */
static atomic_int stop;
static atomic_int failed;

static __thread sigjmp_buf segv_jmp;
static __thread sig_atomic_t segv_armed;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (!READ_ONCE(segv_armed)) {
		/* A fault nobody expected: die with the default action. */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(segv_jmp, 1);
}

static void fail(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, 160, fmt, ap);
	va_end(ap);
	atomic_store(&failed, 1);
	atomic_store(&stop, 1);
}

/* xorshift64: a cheap per-thread random number generator. */
static u64 next_rand(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static unsigned long minor_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return ru.ru_minflt;
}

/* Read the per-VMA lock counters; returns 0 if /proc/vmstat lacks them. */
static int read_vmstat(unsigned long long *val)
{
	char name[64];
	unsigned long long v;
	unsigned int i, found = 0;
	FILE *f = fopen("/proc/vmstat", "r");

	memset(val, 0, NR_VMSTAT * sizeof(*val));
	if (!f)
		return 0;
	while (fscanf(f, "%63s %llu", name, &v) == 2) {
		for (i = 0; i < NR_VMSTAT; i++) {
			if (!strcmp(name, vmstat_names[i])) {
				val[i] = v;
				found++;
			}
		}
	}
	fclose(f);
	return found == NR_VMSTAT;
}

/*
 * Access one shared page: check our slot against the last value we wrote
 * there, write a new value, read it back. A SIGSEGV (the page is unmapped
 * or read-only at the moment) abandons the access; f->last always holds
 * what the slot holds if the page is still the one we wrote to.
 */
static void touch_shared(struct faulter *f, unsigned long page, u64 value)
{
	u64 *slot = (u64 *)(shared + page * page_size + f->id * SLOT_BYTES);
	u64 seen;

	if (sigsetjmp(segv_jmp, 1)) {
		WRITE_ONCE(segv_armed, 0);
		f->segv++;
		return;
	}
	WRITE_ONCE(segv_armed, 1);
	seen = READ_ONCE(*slot);
	if (seen != READ_ONCE(f->last[page])) {
		if (seen) {
			WRITE_ONCE(segv_armed, 0);
			fail(f->failure,
			     "faulter %u: page %lu holds %#llx, wrote %#llx last",
			     f->id, page, (unsigned long long)seen,
			     (unsigned long long)f->last[page]);
			return;
		}
		f->zapped++;
		WRITE_ONCE(f->last[page], 0);
	}
	WRITE_ONCE(*slot, value);
	WRITE_ONCE(f->last[page], value);
	seen = READ_ONCE(*slot);
	WRITE_ONCE(segv_armed, 0);
	if (seen == value) {
		f->verified++;
	} else if (seen == 0) {
		f->zapped++;
		f->last[page] = 0;
	} else {
		fail(f->failure, "faulter %u: page %lu reads %#llx after writing %#llx",
		     f->id, page, (unsigned long long)seen,
		     (unsigned long long)value);
	}
}

/* Fill the private pages, check them, zap them, check they read zero. */
static void private_round(struct faulter *f, u64 tag)
{
	unsigned long i;
	u64 *p;

	for (i = 0; i < PRIVATE_PAGES; i++) {
		p = (u64 *)(f->priv + i * page_size);
		p[0] = tag + i;
		p[page_size / sizeof(*p) - 1] = ~(tag + i);
	}
	for (i = 0; i < PRIVATE_PAGES; i++) {
		p = (u64 *)(f->priv + i * page_size);
		if (p[0] != tag + i || p[page_size / sizeof(*p) - 1] != ~(tag + i)) {
			fail(f->failure, "faulter %u: private page %lu lost its data",
			     f->id, i);
			return;
		}
		f->verified++;
	}
	if (madvise(f->priv, PRIVATE_PAGES * page_size, MADV_DONTNEED)) {
		fail(f->failure, "faulter %u: madvise: %s", f->id, strerror(errno));
		return;
	}
	for (i = 0; i < PRIVATE_PAGES; i++) {
		p = (u64 *)(f->priv + i * page_size);
		if (p[0] || p[page_size / sizeof(*p) - 1]) {
			fail(f->failure, "faulter %u: private page %lu not zero after zap",
			     f->id, i);
			return;
		}
		f->verified++;
	}
}

static void *faulter_main(void *arg)
{
	struct faulter *f = arg;
	u64 rnd = 0x9e3779b97f4a7c15ULL * (f->id + 1);
	u64 seq = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned long page = next_rand(&rnd) % shared_pages;

		seq++;
		touch_shared(f, page, ((u64)(f->id + 1) << 40) | seq);
		f->accesses++;
		if (!(seq % 256))
			private_round(f, ((u64)(f->id + 1) << 40) | seq << 8);
	}
	return NULL;
}

static int map_fixed(char *addr, unsigned long len)
{
	void *p = mmap(addr, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	return p == MAP_FAILED ? -1 : 0;
}

static int mutate(struct mutator *m, enum op what, unsigned long first,
		  unsigned long pages)
{
	char *addr = shared + first * page_size;
	char *away = scratch + first * page_size;
	unsigned long len = pages * page_size;

	switch (what) {
	case OP_REMAP:
		if (munmap(addr, len))
			return -1;
		sched_yield();
		return map_fixed(addr, len);
	case OP_REPLACE:
		return map_fixed(addr, len);
	case OP_PROTECT:
		if (mprotect(addr, len, PROT_READ))
			return -1;
		sched_yield();
		return mprotect(addr, len, PROT_READ | PROT_WRITE);
	case OP_MOVE:
		if (mremap(addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   away) == MAP_FAILED) {
			/* Kernels before 6.17 move one VMA at a time only. */
			if (errno != EFAULT)
				return -1;
			m->skipped++;
			return 0;
		}
		sched_yield();
		if (mremap(away, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   addr) == MAP_FAILED)
			return -1;
		/* Keep the scratch range reserved, as it was. */
		return mmap(away, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			    MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED ? -1 : 0;
	case OP_ZAP:
		return madvise(addr, len, MADV_DONTNEED);
	default:
		break;
	}
	return -1;
}

static void *mutator_main(void *arg)
{
	struct mutator *m = arg;
	u64 rnd = 0xd1b54a32d192ed03ULL * (m->id + 1);

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		enum op what = next_rand(&rnd) % NR_OPS;
		unsigned long pages = 1 + next_rand(&rnd) % MAX_CHUNK;
		unsigned long first;

		if (pages > m->pages)
			pages = m->pages;
		first = m->first + next_rand(&rnd) % (m->pages - pages + 1);
		if (mutate(m, what, first, pages)) {
			fail(m->failure, "mutator %u: %s of pages %lu-%lu: %s",
			     m->id, op_names[what], first, first + pages - 1,
			     strerror(errno));
			break;
		}
		m->ops[what]++;
		if (inject && !m->id && !(m->ops[what] % 64))
			/* Faulter 0's slot in our first page: not ours to write. */
			WRITE_ONCE(*(u64 *)(shared + m->first * page_size),
				   0x5ca1ab1eULL);
	}
	return NULL;
}

static void print_vmstat(const unsigned long long *before,
			 const unsigned long long *after)
{
	unsigned long long d[NR_VMSTAT];
	unsigned int i;

	for (i = 0; i < NR_VMSTAT; i++) {
		d[i] = after[i] - before[i];
		printf("vmstat: %s +%llu\n", vmstat_names[i], d[i]);
	}
	printf("per-VMA lock: %llu faults handled under the VMA lock\n", d[0]);
	printf("per-VMA lock: %llu faults fell back to mmap_lock (%llu not locked, %llu retried)\n",
	       d[1] + d[2], d[1], d[2]);
	printf("per-VMA lock: %llu lookups found a replaced VMA\n", d[3]);
}

/* A line a minute on long runs; the counters are read while they move. */
static void print_progress(const struct faulter *f, unsigned long nf,
			   const struct mutator *m, unsigned long nm,
			   unsigned long secs)
{
	unsigned long i, o, accesses = 0, ops = 0;

	for (i = 0; i < nf; i++)
		accesses += READ_ONCE(f[i].accesses);
	for (i = 0; i < nm; i++)
		for (o = 0; o < NR_OPS; o++)
			ops += READ_ONCE(m[i].ops[o]);
	printf("progress: %lu s, %lu accesses, %lu VMA operations\n",
	       secs, accesses, ops);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int run_bench(unsigned long faults, unsigned long pages)
{
	unsigned long done = 0, i, flt0;
	double t, total = 0;
	char *buf;

	buf = mmap(NULL, pages * page_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		printf("FAIL: mmap: %s\n", strerror(errno));
		return 1;
	}
	/* One untimed round, so that page tables exist before timing. */
	memset(buf, 1, pages * page_size);
	madvise(buf, pages * page_size, MADV_DONTNEED);
	flt0 = minor_faults();
	while (done < faults) {
		unsigned long n = faults - done < pages ? faults - done : pages;

		t = now_ns();
		for (i = 0; i < n; i++)
			WRITE_ONCE(buf[i * page_size], 1);
		total += now_ns() - t;
		done += n;
		if (madvise(buf, pages * page_size, MADV_DONTNEED)) {
			printf("FAIL: madvise: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("bench: %lu write faults timed (%lu minor faults counted)\n",
	       done, minor_faults() - flt0);
	printf("bench: %.0f ns, %.1f ns per fault\n", total, total / done);
	munmap(buf, pages * page_size);
	return 0;
}

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: vma_stress [-d SECONDS] [-t FAULTERS] [-w MUTATORS] [-p PAGES] [-r] [-X]\n"
		"       vma_stress -b FAULTS [-p PAGES] [-r]\n"
		"  -d  run for SECONDS (default 10)\n"
		"  -t  fault threads, 1-%d (default 4)\n"
		"  -w  mutator threads, 1-%d (default 2)\n"
		"  -p  pages in the shared region, or in the bench VMA (default 512)\n"
		"  -b  bench mode: time FAULTS write faults on one thread\n"
		"  -r  fail unless /proc/vmstat shows faults handled under the VMA lock\n"
		"  -X  self-test: a mutator scribbles on a fault thread's slot; must FAIL\n"
		"Ends with a PASS or FAIL line; exits 0 on PASS, 1 on FAIL, 2 on bad usage.\n",
		MAX_FAULTERS, MAX_MUTATORS);
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long seconds = 10, nfault = 4, nmut = 2, bench_faults = 0;
	unsigned long long vm0[NR_VMSTAT], vm1[NR_VMSTAT];
	unsigned long i, flt0, flt1, total_ops = 0, ops[NR_OPS] = { 0 };
	unsigned long accesses = 0, verified = 0, zapped = 0, segv = 0;
	unsigned long skipped = 0;
	static struct faulter faulters[MAX_FAULTERS];
	static struct mutator mutators[MAX_MUTATORS];
	struct sigaction sa;
	int opt, require = 0, have_vmstat, rc = 0;
	double t0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	while ((opt = getopt(argc, argv, "d:t:w:p:b:rXh")) != -1) {
		int bad = 0;

		switch (opt) {
		case 'd':
			bad = parse_ulong(optarg, 1, 86400, &seconds);
			break;
		case 't':
			bad = parse_ulong(optarg, 1, MAX_FAULTERS, &nfault);
			break;
		case 'w':
			bad = parse_ulong(optarg, 1, MAX_MUTATORS, &nmut);
			break;
		case 'p':
			bad = parse_ulong(optarg, MAX_CHUNK, 1UL << 20, &shared_pages);
			break;
		case 'b':
			bad = parse_ulong(optarg, 1, 1UL << 32, &bench_faults);
			break;
		case 'r':
			require = 1;
			break;
		case 'X':
			inject = 1;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			bad = 1;
		}
		if (bad) {
			if (opt != '?')
				fprintf(stderr, "vma_stress: bad value for -%c: %s\n",
					opt, optarg);
			print_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		print_usage(stderr);
		return 2;
	}

	have_vmstat = read_vmstat(vm0);
	if (bench_faults) {
		rc = run_bench(bench_faults, shared_pages);
		goto out;
	}
	if (shared_pages / nmut < MAX_CHUNK) {
		fprintf(stderr, "vma_stress: -p %lu is too small for %lu mutators\n",
			shared_pages, nmut);
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);

	/* Reserve the shared region and the mremap scratch range together. */
	shared = mmap(NULL, 2 * shared_pages * page_size, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (shared == MAP_FAILED || map_fixed(shared, shared_pages * page_size)) {
		printf("FAIL: cannot map %lu pages: %s\n", shared_pages,
		       strerror(errno));
		return 1;
	}
	scratch = shared + shared_pages * page_size;

	printf("vma_stress: %lu fault threads, %lu mutators, %lu shared pages, %lu s\n",
	       nfault, nmut, shared_pages, seconds);
	flt0 = minor_faults();
	t0 = now_ns();
	for (i = 0; i < nfault; i++) {
		struct faulter *f = &faulters[i];

		f->id = i;
		f->last = calloc(shared_pages, sizeof(u64));
		f->priv = mmap(NULL, PRIVATE_PAGES * page_size,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (!f->last || f->priv == MAP_FAILED) {
			printf("FAIL: out of memory\n");
			return 1;
		}
		if (pthread_create(&f->thread, NULL, faulter_main, f)) {
			printf("FAIL: pthread_create\n");
			return 1;
		}
	}
	for (i = 0; i < nmut; i++) {
		struct mutator *m = &mutators[i];

		m->id = i;
		m->pages = shared_pages / nmut;
		m->first = i * m->pages;
		if (pthread_create(&m->thread, NULL, mutator_main, m)) {
			printf("FAIL: pthread_create\n");
			return 1;
		}
	}

	/* By the clock: on a loaded machine, sleeps overrun. */
	for (i = 60; !atomic_load(&stop); usleep(100000)) {
		double secs = (now_ns() - t0) / 1e9;

		if (secs >= seconds)
			break;
		if (secs >= i) {
			print_progress(faulters, nfault, mutators, nmut, i);
			i += 60;
		}
	}
	atomic_store(&stop, 1);

	for (i = 0; i < nfault; i++) {
		struct faulter *f = &faulters[i];

		pthread_join(f->thread, NULL);
		accesses += f->accesses;
		verified += f->verified;
		zapped += f->zapped;
		segv += f->segv;
		if (f->failure[0])
			printf("error: %s\n", f->failure);
	}
	for (i = 0; i < nmut; i++) {
		struct mutator *m = &mutators[i];
		unsigned int o;

		pthread_join(m->thread, NULL);
		for (o = 0; o < NR_OPS; o++) {
			ops[o] += m->ops[o];
			total_ops += m->ops[o];
		}
		skipped += m->skipped;
		if (m->failure[0])
			printf("error: %s\n", m->failure);
	}
	flt1 = minor_faults();
	printf("counts: %lu accesses, %lu minor faults in %.1f s\n",
	       accesses, flt1 - flt0, (now_ns() - t0) / 1e9);
	printf("counts: %lu verifications, %lu values found zapped, %lu SIGSEGV handled\n",
	       verified, zapped, segv);
	printf("counts: %lu VMA operations\n", total_ops);
	for (i = 0; i < NR_OPS; i++)
		printf("vma ops: %s %lu\n", op_names[i], ops[i]);
	if (skipped)
		printf("vma ops: %lu mremap moves refused (range spans VMAs)\n",
		       skipped);
	rc = atomic_load(&failed);
	if (!rc && (!verified || !total_ops)) {
		printf("error: nothing was verified or no VMA operation ran\n");
		rc = 1;
	}

out:
	if (have_vmstat && read_vmstat(vm1)) {
		print_vmstat(vm0, vm1);
		if (require && vm1[0] == vm0[0]) {
			printf("error: no fault was handled under the VMA lock\n");
			rc = 1;
		}
	} else {
		printf("vmstat: no vma_lock_* counters (CONFIG_PER_VMA_LOCK_STATS off)\n");
		if (require) {
			printf("error: -r needs the per-VMA lock counters\n");
			rc = 1;
		}
	}
	printf("%s\n", rc ? "FAIL" : "PASS");
	return rc;
}
