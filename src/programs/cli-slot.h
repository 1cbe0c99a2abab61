/* SPDX-License-Identifier: MIT */
#pragma once

/* Concurrent commands (`box run`, `run`) get distinct box users, like the supervisor's
 * slots: a lock file per command slot in a root-only directory, held while the command
 * runs. Their uids come after the supervisor's (uid_base + CLI_SLOT_BASE + n). Returns the
 * slot, and the lock's fd in *ret_fd (-1 when no lock could be taken: rootless, no /run). */
#define CLI_SLOT_BASE 1024
#define CLI_SLOTS 1024
unsigned cli_slot_acquire(int *ret_fd);
