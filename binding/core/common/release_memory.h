// Handing freed heap memory back to the operating system.
//
// glibc's malloc keeps what is freed in the middle of its arenas for reuse: after a burst of
// connections ends, the process's in-use heap is back where it was, but its RSS is not (a
// 20-minute churn of 622 viewer sessions measured the in-use heap back to its baseline, to
// the kilobyte, and RSS 7.6 MB above it). A long-running device sees that as growth.
#pragma once

namespace kvs {

// Returns the free pages of every malloc arena to the system (glibc's malloc_trim); a no-op
// with other C libraries. Costs a walk of the arenas: call it after work ends, not per packet.
void ReleaseFreedMemory();

}  // namespace kvs
