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
#include <type_traits>

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
// The number of decimal digits of v (1 for 0).
inline int decimal_digits(std::uint64_t v) {
  static constexpr std::uint64_t kPowers[20] = {1ULL,
                                                10ULL,
                                                100ULL,
                                                1'000ULL,
                                                10'000ULL,
                                                100'000ULL,
                                                1'000'000ULL,
                                                10'000'000ULL,
                                                100'000'000ULL,
                                                1'000'000'000ULL,
                                                10'000'000'000ULL,
                                                100'000'000'000ULL,
                                                1'000'000'000'000ULL,
                                                10'000'000'000'000ULL,
                                                100'000'000'000'000ULL,
                                                1'000'000'000'000'000ULL,
                                                10'000'000'000'000'000ULL,
                                                100'000'000'000'000'000ULL,
                                                1'000'000'000'000'000'000ULL,
                                                10'000'000'000'000'000'000ULL};
  // From the bit length: log10(2) ~ 1233/4096, then one comparison.
  const int bits = 64 - __builtin_clzll(v | 1);
  const int guess = (bits * 1233) >> 12;
  return guess + ((v | 1) >= kPowers[guess] ? 1 : 0);  // (v | 1: zero has one digit)
}
// Two decimal digits of every number below 100.
inline constexpr char kDecimalPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
// w (below 10^8) as exactly eight digits, zero-padded, at p: four table look-ups in 32-bit
// arithmetic.
inline void put_eight_digits(char* p, std::uint32_t w) {
  for (int i = 3; i >= 0; --i) {
    std::memcpy(p + 2 * i, kDecimalPairs + 2 * (w % 100), 2);
    w /= 100;
  }
}
// v in decimal, as fmt writes it (at most 20 bytes). Written from its last digit back, eight
// digits at a time and two per table look-up: a VCD's picosecond time stamps have 9 to 14
// digits, and fmt's 64-bit steps cost twice this.
inline char* put_decimal(char* p, std::uint64_t v) {
  if (v < 100) {  // lines, IRQs, CPUs, process and track numbers
    if (v < 10) {
      *p = static_cast<char>('0' + v);
      return p + 1;
    }
    std::memcpy(p, kDecimalPairs + 2 * v, 2);
    return p + 2;
  }
  char* const end = p + decimal_digits(v);
  char* b = end;
  while (v >= 100'000'000) {
    b -= 8;
    put_eight_digits(b, static_cast<std::uint32_t>(v % 100'000'000));
    v /= 100'000'000;
  }
  auto w = static_cast<std::uint32_t>(v);
  while (w >= 100) {
    b -= 2;
    std::memcpy(b, kDecimalPairs + 2 * (w % 100), 2);
    w /= 100;
  }
  if (w >= 10) {
    std::memcpy(b - 2, kDecimalPairs + 2 * w, 2);
  } else {
    b[-1] = static_cast<char>('0' + w);
  }
  return end;
}
// At most 20 bytes.
template <typename T>
inline char* put_number(char* p, T v) {
  static_assert(std::is_integral_v<T> && sizeof(T) <= 8, "an integer");
  if constexpr (std::is_signed_v<T>) {
    if (v < 0) {
      *p++ = '-';
      return put_decimal(p, ~static_cast<std::uint64_t>(static_cast<std::int64_t>(v)) + 1);
    }
  }
  return put_decimal(p, static_cast<std::uint64_t>(v));
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
