/* blas_pool.c: threads of kedja's own for OpenBLAS's threaded calls, which stop spinning when
 * asked.
 *
 * OpenBLAS's pthreads builds keep their idle workers busy-waiting (nop loops) for ~2^28 cycles,
 * about 0.1 s, after every threaded call. A thread of kedja's started meanwhile (a recurrent
 * time loop run as two halves of the batch, backends/host_threads.py) shares its core with
 * that spinner and runs at half speed. OpenBLAS >= 0.3.27 lets a program run the jobs of a
 * threaded call on threads of its own ("threads callback"): `pool_run` is such a callback. Its
 * workers spin for `spin_ns` after a job (back-to-back GEMMs then start as quickly as with
 * OpenBLAS's threads), then sleep on a condition variable; `park` makes them sleep at once.
 *
 * The jobs of one call wait on one another (OpenBLAS's threaded GEMM exchanges packed blocks
 * between them), so they always run at the same time, one per thread: job 0 on the caller,
 * job k on worker k. OpenBLAS keys per-thread scratch buffers by the job's thread number, so
 * one threaded call runs at a time (`call_lock`); a nested call (a job that calls threaded
 * BLAS) gets threads of its own for its jobs (`run_on_new_threads`).
 *
 * Results are OpenBLAS's own bits: it splits a call into the same jobs whoever runs them.
 */
#include "host_kernels.h"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* OpenBLAS's callback types (its cblas.h, >= 0.3.27). */
typedef void (*dojob_fn)(int thread_num, void *jobdata, int dojob_data);

/* Workers at most (jobs of one call at most: OpenBLAS's MAX_CPU_NUMBER is lower in practice;
 * a call with more jobs runs on threads of its own). */
#define POOL_MAX 512

static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER; /* one threaded call at a time */
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static _Atomic int workers;                   /* started, 1..workers (grown under call_lock) */
static unsigned long generation;              /* calls dispatched (under call_lock) */
static _Atomic unsigned long slot[POOL_MAX];  /* worker k's last call; a new value = a job */
static unsigned long born[POOL_MAX];          /* slot[k] when worker k was started */
static _Atomic int sleepers;                  /* workers asleep or about to be */
static _Atomic int pending;                   /* jobs of this call still running on workers */
static _Atomic unsigned long parks;           /* bumped by park: spinning workers sleep */
static _Atomic long spin_ns = 2000000;        /* a worker's spin after a job: 2 ms */
static _Atomic long calls;                    /* threaded calls run on the pool (for tests) */
static _Atomic long naps;                     /* times a worker went to sleep (for tests) */
static _Thread_local int inside;              /* this thread runs a job or a pooled call */

/* This call's jobs (written under call_lock before the workers' slots are stamped). */
static dojob_fn job_fn;
static char *job_data;
static size_t job_size;
static int job_count, job_arg;

static inline void
relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static long
elapsed_ns(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - start->tv_sec) * 1000000000L + (now.tv_nsec - start->tv_nsec);
}

/* Worker k's next call: spins on its slot for up to `spin_ns` (or until `park`), then sleeps. */
static unsigned long
next_call(int k, unsigned long seen)
{
    unsigned long got, parked = atomic_load_explicit(&parks, memory_order_relaxed);
    long limit = atomic_load_explicit(&spin_ns, memory_order_relaxed);
    struct timespec start;
    unsigned n;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (n = 1;; n++) {
        got = atomic_load_explicit(&slot[k], memory_order_acquire);
        if (got != seen)
            return got;
        if (atomic_load_explicit(&parks, memory_order_relaxed) != parked)
            break;
        if ((n & 255) == 0 && elapsed_ns(&start) > limit)
            break;
        relax();
    }
    pthread_mutex_lock(&sleep_lock);
    atomic_fetch_add(&sleepers, 1); /* seq_cst: pairs with the caller's stamp, then load */
    atomic_fetch_add_explicit(&naps, 1, memory_order_relaxed);
    while ((got = atomic_load(&slot[k])) == seen)
        pthread_cond_wait(&wake, &sleep_lock);
    atomic_fetch_sub(&sleepers, 1);
    pthread_mutex_unlock(&sleep_lock);
    return got;
}

static void *
worker_main(void *arg)
{
    int k = (int)(intptr_t)arg;
    unsigned long seen = born[k];
    inside = 1;
    for (;;) {
        seen = next_call(k, seen);
        job_fn(k, job_data + (size_t)k * job_size, job_arg);
        atomic_fetch_sub_explicit(&pending, 1, memory_order_release);
    }
    return NULL;
}

/* Starts workers up to `count` (under call_lock); 0 if a thread could not be started. */
static int
grow(int count)
{
    pthread_attr_t attr;
    pthread_t thread;
    int ok = 1;
    if (count >= POOL_MAX)
        return 0;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (ok && workers < count) {
        int k = workers + 1;
        born[k] = atomic_load(&slot[k]);
        ok = pthread_create(&thread, &attr, worker_main, (void *)(intptr_t)k) == 0;
        if (ok)
            workers = k;
    }
    pthread_attr_destroy(&attr);
    return ok;
}

typedef struct {
    dojob_fn fn;
    int k, arg;
    void *data;
} OneJob;

static void *
one_job(void *arg)
{
    OneJob *job = (OneJob *)arg;
    inside = 1;
    job->fn(job->k, job->data, job->arg);
    return NULL;
}

/* All jobs at once on threads started for them (a nested call, or the pool could not grow). */
static void
run_on_new_threads(dojob_fn dojob, int numjobs, size_t elsize, char *data, int arg)
{
    pthread_t *threads = malloc(sizeof(pthread_t) * (size_t)numjobs);
    OneJob *jobs = malloc(sizeof(OneJob) * (size_t)numjobs);
    int k, was = inside;
    if (threads == NULL || jobs == NULL) {
        fprintf(stderr, "kedja blas_pool: out of memory for %d BLAS jobs\n", numjobs);
        abort(); /* the jobs wait on one another: running them one by one would hang */
    }
    for (k = 1; k < numjobs; k++) {
        jobs[k] = (OneJob){dojob, k, arg, data + (size_t)k * elsize};
        if (pthread_create(&threads[k], NULL, one_job, &jobs[k]) != 0) {
            fprintf(stderr, "kedja blas_pool: cannot start a thread for BLAS job %d of %d\n",
                    k, numjobs);
            abort(); /* as OpenBLAS itself does when it cannot start its threads */
        }
    }
    inside = 1;
    dojob(0, data, arg);
    inside = was;
    for (k = 1; k < numjobs; k++)
        pthread_join(threads[k], NULL);
    free(threads);
    free(jobs);
}

/* OpenBLAS's threads callback: runs jobs 0..numjobs-1 at once and returns when all are done
 * (`sync` is always 1 in the builds that call it; waiting is right for both). */
static void
pool_run(int sync, dojob_fn dojob, int numjobs, size_t elsize, void *jobdata, int arg)
{
    char *data = (char *)jobdata;
    struct timespec start;
    unsigned long call;
    unsigned n;
    int k;
    (void)sync;
    if (numjobs <= 1) {
        if (numjobs == 1)
            dojob(0, data, arg);
        return;
    }
    if (inside) {
        run_on_new_threads(dojob, numjobs, elsize, data, arg);
        return;
    }
    pthread_mutex_lock(&call_lock);
    if (!grow(numjobs - 1)) {
        pthread_mutex_unlock(&call_lock);
        run_on_new_threads(dojob, numjobs, elsize, data, arg);
        return;
    }
    job_fn = dojob;
    job_data = data;
    job_size = elsize;
    job_count = numjobs;
    job_arg = arg;
    atomic_store(&pending, numjobs - 1);
    call = ++generation;
    for (k = 1; k < numjobs; k++)
        atomic_store(&slot[k], call); /* seq_cst: the job is visible to whoever sees it */
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    inside = 1;
    dojob(0, data, arg);
    inside = 0;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (n = 1; atomic_load_explicit(&pending, memory_order_acquire) > 0; n++) {
        /* The others started with us and do as much work: spin, but yield the core after
         * 1 ms (a loaded machine may have descheduled a worker). */
        if ((n & 255) == 0 && elapsed_ns(&start) > 1000000)
            sched_yield();
        else
            relax();
    }
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    pthread_mutex_unlock(&call_lock);
}

/* In a forked child the workers do not exist and the locks may be held: start over. */
static void
after_fork_child(void)
{
    int k;
    pthread_mutex_t fresh_mutex = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t fresh_cond = PTHREAD_COND_INITIALIZER;
    call_lock = fresh_mutex;
    sleep_lock = fresh_mutex;
    wake = fresh_cond;
    workers = 0;
    atomic_store(&sleepers, 0);
    atomic_store(&pending, 0);
    for (k = 0; k < POOL_MAX; k++)
        atomic_store(&slot[k], 0);
    inside = 0;
}

#define POOL_AVAILABLE 1
#else
#define POOL_AVAILABLE 0
#endif

#if POOL_AVAILABLE
PyObject *
host_blas_pool_callback(PyObject *module, PyObject *unused)
{
    static int registered;
    (void)module;
    (void)unused;
    if (!registered) {
        if (pthread_atfork(NULL, NULL, after_fork_child) != 0) {
            PyErr_SetString(PyExc_OSError, "blas_pool_callback: pthread_atfork failed");
            return NULL;
        }
        registered = 1;
    }
    return PyLong_FromVoidPtr((void *)(uintptr_t)pool_run);
}

PyObject *
host_blas_pool_park(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    atomic_fetch_add_explicit(&parks, 1, memory_order_relaxed);
    Py_RETURN_NONE;
}

PyObject *
host_blas_pool_spin(PyObject *module, PyObject *arg)
{
    long ns = PyLong_AsLong(arg);
    (void)module;
    if (ns == -1 && PyErr_Occurred())
        return NULL;
    if (ns < 0 || ns > 1000000000L) {
        PyErr_Format(PyExc_ValueError, "blas_pool_spin: expected 0 to 1e9 nanoseconds, got %ld",
                     ns);
        return NULL;
    }
    return PyLong_FromLong(atomic_exchange(&spin_ns, ns));
}

PyObject *
host_blas_pool_stats(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return Py_BuildValue("{s:i,s:l,s:l,s:i,s:l}", "workers", workers,
                         "calls", atomic_load(&calls), "naps", atomic_load(&naps),
                         "sleeping", atomic_load(&sleepers), "spin_ns", atomic_load(&spin_ns));
}
#else
/* Elsewhere (no pthreads, or an OpenBLAS kedja does not look for) there is no pool. */
PyObject *
host_blas_pool_callback(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    Py_RETURN_NONE;
}

PyObject *
host_blas_pool_park(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    Py_RETURN_NONE;
}

PyObject *
host_blas_pool_spin(PyObject *module, PyObject *arg)
{
    (void)module;
    (void)arg;
    return PyLong_FromLong(0);
}

PyObject *
host_blas_pool_stats(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return Py_BuildValue("{s:i,s:i,s:i,s:i,s:i}", "workers", 0, "calls", 0, "naps", 0,
                         "sleeping", 0, "spin_ns", 0);
}
#endif
