// Lifetime of libuv handles owned by C++ objects. The uv handle lives in a HandleBlock that
// keeps itself alive until libuv's close callback, so an owner can go away at any time, and
// a loop shutting down can close handles whose owners still exist.
#pragma once

#include <uv.h>

#include <memory>

namespace kvs::loop {

struct HandleBlock {
  virtual ~HandleBlock() = default;
  virtual uv_handle_t* handle() = 0;

  bool closed = false;
  std::shared_ptr<HandleBlock> self;  // released by the close callback
};

// Makes a block of type T (derived from HandleBlock) and points handle()->data at it.
template <typename T>
std::shared_ptr<T> NewHandleBlock() {
  auto block = std::make_shared<T>();
  block->self = block;
  block->handle()->data = static_cast<HandleBlock*>(block.get());
  return block;
}

// Idempotent. Only on the loop thread.
inline void CloseHandle(HandleBlock& block) {
  if (block.closed) return;
  block.closed = true;
  uv_close(block.handle(), [](uv_handle_t* h) {
    auto* b = static_cast<HandleBlock*>(h->data);
    std::shared_ptr<HandleBlock> last = std::move(b->self);  // may free b at scope end
  });
}

}  // namespace kvs::loop
