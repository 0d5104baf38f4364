# Cross-building for linux-arm64 (AArch64, ARMv8-A) with Debian's g++-aarch64-linux-gnu.
set(KVS_TARGET_TRIPLET aarch64-linux-gnu)
set(KVS_TARGET_PROCESSOR aarch64)
include("${CMAKE_CURRENT_LIST_DIR}/linux-cross.cmake")
