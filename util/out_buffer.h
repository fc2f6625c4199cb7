#pragma once
// Composing text output in place, for the writers on hot paths (the event log, the Perfetto
// trace): room for a record at its longest is reserved once, then its pieces are written
// through a pointer: no string per field, no capacity test per piece. The record's end is then
// committed, and the buffer is written to its file in large pieces.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include <fmt/compile.h>
#include <fmt/format.h>

namespace util {

class OutBuffer {
 public:
  // A pointer to at least n free bytes at the end.
  char* room(std::size_t n) {
    if (size_ + n > capacity_) grow(n);
    return data_.get() + size_;
  }
  // The text written since room() ends at p.
  void commit(const char* p) { size_ = static_cast<std::size_t>(p - data_.get()); }
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  void clear() { size_ = 0; }

 private:
  void grow(std::size_t n);
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0, capacity_ = 0;
};

// The pieces, each returning the end of what it wrote.
template <std::size_t N>
inline char* put(char* p, const char (&literal)[N]) {
  std::memcpy(p, literal, N - 1);
  return p + N - 1;
}
inline char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
// At most 20 bytes.
template <typename T>
inline char* put_number(char* p, T v) {
  return fmt::format_to(p, FMT_COMPILE("{}"), v);
}
// v in decimal, at least `width` digits (zero-padded): at most 20 bytes.
inline char* put_padded(char* p, std::uint64_t v, int width) {
  char digits[20];
  int n = 0;
  do {
    digits[19 - n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 || n < width);
  std::memcpy(p, digits + 20 - n, static_cast<std::size_t>(n));
  return p + n;
}
// The bytes put_json_escaped may write for s (escapes and a whole last word).
inline std::size_t json_escaped_bound(std::string_view s) {
  return 6 * s.size() + 8;
}
// `s` as a JSON string's contents: the same bytes as util::append_json_escaped.
char* put_json_escaped(char* p, std::string_view s);

}  // namespace util
