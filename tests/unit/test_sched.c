/* SPDX-License-Identifier: BSD-2-Clause */
// sources: sched/fair.c sched/balance.c sched/queue.c
/* Scheduling decisions on made-up run queues: pick order, weights, placement of woken
 * entities, affinity, which queue an idle CPU steals from, and queues of any length. */
#include "stubs.h"

#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"

void *kzalloc(size_t size)
{
    return calloc(1, size);
}

static struct sched_entity vc[8];
static struct sched_queue queues[3];
static struct sched_queue *cpu[3];

static int setup(void **state)
{
    (void)state;
    memset(vc, 0, sizeof(vc));
    for (int i = 0; i < 8; i++) {
        vc[i].state = ENTITY_RUNNABLE;
        vc[i].weight = 1;
        vc[i].affinity = ~0ull;
    }
    for (unsigned c = 0; c < 3; c++) {
        cpu[c] = &queues[c];
        sched_queue_init(cpu[c], c);
        cpu[c]->usable = true;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return 0;
}

static void queue(struct sched_queue *q, struct sched_entity *e)
{
    sched_queue_add(q, e);
}

static void test_pick_least_virtual_time_among_runnable(void **state)
{
    (void)state;
    vc[0].vruntime = 300;
    vc[1].vruntime = 100;
    vc[2].vruntime = 50;
    vc[2].state = ENTITY_BLOCKED; /* least, but not runnable */
    vc[3].vruntime = 10;
    vc[3].state = ENTITY_STOPPED;
    for (int i = 0; i < 4; i++)
        queue(cpu[0], &vc[i]);
    assert_ptr_equal(sched_fair.pick(cpu[0]), &vc[1]);
    vc[1].state = ENTITY_BLOCKED;
    assert_ptr_equal(sched_fair.pick(cpu[0]), &vc[0]);
    vc[0].state = ENTITY_PARKED;
    assert_null(sched_fair.pick(cpu[0]));
}

static void test_weights_share_cpu_time(void **state)
{
    (void)state;
    vc[0].weight = 2;
    vc[1].weight = 1;
    queue(cpu[0], &vc[0]);
    queue(cpu[0], &vc[1]);
    unsigned picked[2] = { 0, 0 };
    for (int slice = 0; slice < 3000; slice++) {
        struct sched_entity *v = sched_fair.pick(cpu[0]);
        sched_fair.charge(v, 1000);
        picked[v == &vc[1]]++;
    }
    assert_int_equal(picked[0], 2000); /* exactly 2:1 with equal slices */
    assert_int_equal(picked[1], 1000);
}

static void test_woken_entity_gets_no_credit_for_sleeping(void **state)
{
    (void)state;
    vc[0].vruntime = 1000000;
    vc[1].vruntime = 2000000;
    vc[2].vruntime = 5; /* slept a long time in this queue */
    vc[2].state = ENTITY_BLOCKED;
    queue(cpu[0], &vc[0]);
    queue(cpu[0], &vc[1]);
    queue(cpu[0], &vc[2]);
    assert_ptr_equal(sched_fair.pick(cpu[0]), &vc[0]);
    assert_int_equal(cpu[0]->min_vruntime, 1000000);
    sched_fair.charge(&vc[0], 300000);
    vc[2].state = ENTITY_RUNNABLE; /* woken: it runs next, but from the queue's virtual time */
    assert_ptr_equal(sched_fair.pick(cpu[0]), &vc[2]);
    assert_int_equal(vc[2].vruntime, 1000000);
    vc[3].vruntime = 7; /* new in this queue: no further back either */
    sched_fair.place(cpu[0], &vc[3]);
    assert_int_equal(vc[3].vruntime, 1000000);
    vc[4].vruntime = 3000000; /* ahead: keeps its own */
    sched_fair.place(cpu[0], &vc[4]);
    assert_int_equal(vc[4].vruntime, 3000000);
}

/* Queues drift apart: a vCPU moving from a queue far ahead to one far behind keeps only its
 * lead over the queue it left (it would otherwise wait until the new queue caught up, even
 * when that queue had nothing runnable as it arrived), and one behind arrives with no credit. */
static void test_migrating_entity_keeps_only_its_lead(void **state)
{
    (void)state;
    vc[0].vruntime = 9000000;  /* cpu0's queue is far ahead */
    vc[1].vruntime = 9500000;  /* the mover: 500000 ahead of cpu0's virtual time */
    vc[2].vruntime = 100;      /* cpu1's queue, blocked as the mover arrives */
    queue(cpu[0], &vc[0]);
    queue(cpu[0], &vc[1]);
    queue(cpu[1], &vc[2]);
    assert_ptr_equal(sched_fair.pick(cpu[0]), &vc[0]);
    assert_ptr_equal(sched_fair.pick(cpu[1]), &vc[2]);
    vc[2].state = ENTITY_BLOCKED;
    sched_fair.depart(cpu[0], &vc[1]);
    sched_queue_remove(cpu[0], &vc[1]); /* taken out of cpu0's queue, as the core does */
    sched_fair.place(cpu[1], &vc[1]);
    queue(cpu[1], &vc[1]);
    assert_int_equal(vc[1].vruntime, 500100);
    vc[2].state = ENTITY_RUNNABLE;
    assert_ptr_equal(sched_fair.pick(cpu[1]), &vc[2]); /* behind by its lead: cpu1's own runs first */
    vc[3].vruntime = 50;       /* behind cpu1's virtual time when it leaves */
    sched_fair.depart(cpu[1], &vc[3]);
    sched_fair.place(cpu[0], &vc[3]);
    assert_int_equal(vc[3].vruntime, 9000000);
}

static void test_affinity_mask(void **state)
{
    (void)state;
    struct sched_entity se = { .affinity = 0x2 };
    assert_false(sched_allowed_on(&se, 0));
    assert_true(sched_allowed_on(&se, 1));
    assert_false(sched_allowed_on(&se, 70));
    se.affinity = ~0ull;
    assert_true(sched_allowed_on(&se, 70));
}

static void test_steal_from_the_busiest_queue(void **state)
{
    (void)state;
    queue(cpu[1], &vc[0]);
    queue(cpu[1], &vc[1]);
    queue(cpu[2], &vc[2]);
    queue(cpu[2], &vc[3]);
    queue(cpu[2], &vc[4]);
    cpu[1]->running = &vc[0];
    cpu[2]->running = &vc[2];
    struct steal_choice c = sched_choose_steal(queues, 3, cpu[0]);
    assert_ptr_equal(c.from, cpu[2]);
    assert_true(c.entity == &vc[3] || c.entity == &vc[4]); /* never the running one */
}

static void test_no_steal_from_a_queue_with_one_runnable(void **state)
{
    (void)state;
    queue(cpu[1], &vc[0]);
    queue(cpu[1], &vc[1]);
    vc[1].state = ENTITY_BLOCKED;
    cpu[1]->running = &vc[0];
    struct steal_choice c = sched_choose_steal(queues, 3, cpu[0]);
    assert_null(c.from);
    assert_null(c.entity);
}

static void test_steal_respects_affinity_and_vmx_state(void **state)
{
    (void)state;
    queue(cpu[1], &vc[0]);
    queue(cpu[1], &vc[1]);
    cpu[1]->running = &vc[0];
    vc[1].affinity = 0x2; /* may run on CPU 1 only */
    assert_null(sched_choose_steal(queues, 3, cpu[0]).entity);
    vc[1].affinity = 0x1;
    assert_ptr_equal(sched_choose_steal(queues, 3, cpu[0]).entity, &vc[1]);
    cpu[1]->usable = false; /* a CPU out of the scheduler's work (no VMX) is no victim either */
    assert_null(sched_choose_steal(queues, 3, cpu[0]).entity);
}

/* A queue is a list through the entities: it holds any number (64 VMs of 64 vCPUs pinned to
 * one CPU is 4096), keeps them in order, and takes any one out. */
static void test_queue_holds_any_number(void **state)
{
    (void)state;
    enum { N = 4096 };
    struct sched_entity *many = calloc(N, sizeof(*many));
    for (unsigned i = 0; i < N; i++) {
        many[i].state = ENTITY_RUNNABLE;
        many[i].weight = 1;
        many[i].vruntime = 1000 + (i * 7919u + 5) % N; /* a permutation: one least */
        queue(cpu[0], &many[i]);
    }
    assert_int_equal(cpu[0]->length, N);
    struct sched_entity *least = sched_fair.pick(cpu[0]);
    assert_int_equal(least->vruntime, 1000);
    sched_queue_remove(cpu[0], least);
    sched_queue_remove(cpu[0], &many[0]);
    sched_queue_remove(cpu[0], &many[N - 1]);
    assert_int_equal(cpu[0]->length, N - 3);
    unsigned seen = 0;
    for (struct sched_link *l = cpu[0]->entities.next; l != &cpu[0]->entities; l = l->next) {
        struct sched_entity *e = sched_entity_of(l);
        assert_true(e != least && e != &many[0] && e != &many[N - 1]);
        assert_int_equal(e->home_cpu, 0);
        seen++;
    }
    assert_int_equal(seen, N - 3);
    assert_int_equal(sched_fair.pick(cpu[0])->vruntime, 1001);
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pick_least_virtual_time_among_runnable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weights_share_cpu_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_woken_entity_gets_no_credit_for_sleeping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrating_entity_keeps_only_its_lead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_affinity_mask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_steal_from_the_busiest_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_steal_from_a_queue_with_one_runnable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_steal_respects_affinity_and_vmx_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_holds_any_number, setup, teardown),
    };
    return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
