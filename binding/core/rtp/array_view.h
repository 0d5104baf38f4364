// A read-only view of contiguous elements (std::span is C++20), so that writers can take a
// caller's std::array, C array or std::vector without copying or allocating. Like ByteSpan it
// does not own: the elements must outlive it. There is deliberately no initializer_list
// constructor, which would dangle when the view is stored in a struct.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

namespace kvs::rtp {

template <typename T>
class ArrayView {
 public:
  constexpr ArrayView() = default;
  constexpr ArrayView(const T* data, size_t size) : data_(data), size_(size) {}
  ArrayView(const std::vector<T>& v) : data_(v.data()), size_(v.size()) {}  // NOLINT
  template <size_t N>
  constexpr ArrayView(const std::array<T, N>& a) : data_(a.data()), size_(N) {}  // NOLINT
  template <size_t N>
  constexpr ArrayView(const T (&a)[N]) : data_(a), size_(N) {}  // NOLINT

  constexpr const T* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr const T& operator[](size_t i) const { return data_[i]; }
  constexpr const T* begin() const { return data_; }
  constexpr const T* end() const { return data_ + size_; }

 private:
  const T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace kvs::rtp
