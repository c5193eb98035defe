// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * The C side of the C <-> TypeScript contract, never loaded: one global of
 * every struct user space reads or writes, so that their layouts are in this
 * object's BTF (events sent through ring buffers appear in no other BTF).
 * hack/gen-layouts.ts turns them into agent/probes/layouts.generated.ts, the
 * only place TypeScript learns an offset or a size; test/unit/bpf-layouts.test.ts
 * fails when a header changes without it, or names a struct not listed here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "loupe.h"
#include "biolatency.h"
#include "exec.h"
#include "files.h"
#include "netbytes.h"
#include "oomkill.h"
#include "profile.h"
#include "runqlat.h"
#include "syscalls.h"
#include "tcp.h"

#define CONTRACT(type) struct type loupe_contract_##type SEC(".contract")

CONTRACT(loupe_target);
CONTRACT(biolatency_totals);
CONTRACT(biolatency_key);
CONTRACT(biolatency_count);
CONTRACT(exec_event);
CONTRACT(file_key);
CONTRACT(file_counts);
CONTRACT(netbytes_totals);
CONTRACT(oomkill_event);
CONTRACT(profile_key);
CONTRACT(profile_count);
CONTRACT(runqlat_totals);
CONTRACT(runqlat_key);
CONTRACT(syscalls_totals);
CONTRACT(syscalls_key);
CONTRACT(syscalls_count);
CONTRACT(syscalls_latency);
CONTRACT(tcp_event);
