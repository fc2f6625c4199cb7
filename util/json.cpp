#include "util/json.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <iterator>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <fmt/format.h>

#include "util/out_buffer.h"

namespace util {

namespace {

// JSON string escapes, as util::append_json_escaped writes them (the same bytes): 0 for a
// character copied as it is.
constexpr auto kEscape = [] {
  std::array<char, 256> t{};
  for (unsigned c = 0; c < 0x20; ++c) t[c] = 'u';
  t['"'] = '"';
  t['\\'] = '\\';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  return t;
}();

// Whether none of 16 (or 8) bytes needs an escape (a control character, '"' or '\\'): with
// SSE2 (every x86-64) three byte-wise compares; otherwise the usual word-at-a-time tests for a
// byte below a bound and for a byte equal to one.
#if defined(__SSE2__)
inline bool clean(std::uint64_t a, std::uint64_t b) {
  const __m128i v = _mm_set_epi64x(static_cast<long long>(b), static_cast<long long>(a));
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  return _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash))) == 0;
}
#else
inline bool clean8(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const std::uint64_t below = (w - 0x20 * kOnes) & ~w & kHigh;
  const std::uint64_t q = w ^ ('"' * kOnes), b = w ^ ('\\' * kOnes);
  return (below | ((q - kOnes) & ~q & kHigh) | ((b - kOnes) & ~b & kHigh)) == 0;
}
inline bool clean(std::uint64_t a, std::uint64_t b) {
  return clean8(a) && clean8(b);
}
#endif
constexpr std::uint64_t kPad = 0x6161616161616161ull;  // "aaaaaaaa": needs no escape

// Writes one character escaped at p and returns the end.
char* put_escaped_char(char* p, char c) {
  const char e = kEscape[static_cast<unsigned char>(c)];
  if (e == 0) {
    *p++ = c;
  } else if (e != 'u') {
    *p++ = '\\';
    *p++ = e;
  } else {
    static constexpr char kHex[] = "0123456789abcdef";
    const auto u = static_cast<unsigned char>(c);
    std::memcpy(p, "\\u00", 4);
    p[4] = kHex[u >> 4];
    p[5] = kHex[u & 15];
    p += 6;
  }
  return p;
}

// From character i on, one at a time (the bytes before i need no escape and are written).
[[gnu::noinline]] char* put_escaped_from(char* p, std::string_view s, std::size_t i) {
  p += i;
  for (const char* c = s.data() + i; c < s.data() + s.size(); ++c) p = put_escaped_char(p, *c);
  return p;
}

template <typename T>
inline T load(const char* c) {
  T v;
  std::memcpy(&v, c, sizeof v);
  return v;
}
template <typename T>
inline void store(char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

}  // namespace

void OutBuffer::grow(std::size_t n) {
  const std::size_t capacity = std::max(capacity_ * 2, std::max<std::size_t>(size_ + n, 64 * 1024));
  auto bigger = std::make_unique<char[]>(capacity);
  if (size_ != 0) std::memcpy(bigger.get(), data_.get(), size_);
  data_ = std::move(bigger);
  capacity_ = capacity;
}

// Keys, event names and most values are short and need no escape: up to 16 characters are
// tested and copied as two overlapping loads, with no loop.
char* put_json_escaped(char* p, std::string_view s) {
  const char* c = s.data();
  const std::size_t n = s.size();
  if (n >= 8) {
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const auto a = load<std::uint64_t>(c + i), b = load<std::uint64_t>(c + i + 8);
      if (!clean(a, b)) return put_escaped_from(p, s, i);
      store(p + i, a);
      store(p + i + 8, b);
    }
    if (i < n) {
      // The rest (1 to 15 characters) as its last two words or last word, overlapping what was
      // written already.
      const bool two = n - i > 8;
      const auto a = load<std::uint64_t>(two ? c + i : c + n - 8);
      const auto b = two ? load<std::uint64_t>(c + n - 8) : kPad;
      if (!clean(a, b)) return put_escaped_from(p, s, i);
      store(p + (two ? i : n - 8), a);
      if (two) store(p + n - 8, b);
    }
    return p + n;
  }
  if (n >= 4) {
    const auto a = load<std::uint32_t>(c), b = load<std::uint32_t>(c + n - 4);
    if (clean(a | std::uint64_t{b} << 32, kPad)) {
      store(p, a);
      store(p + n - 4, b);
      return p + n;
    }
  } else if (n > 0) {
    // Characters 0, n/2 and n-1 are all of them.
    const auto x = static_cast<unsigned char>(c[0]), y = static_cast<unsigned char>(c[n / 2]),
               z = static_cast<unsigned char>(c[n - 1]);
    if (clean((kPad << 24) | x | y << 8 | std::uint64_t{z} << 16, kPad)) {
      p[0] = c[0];
      p[n / 2] = c[n / 2];
      p[n - 1] = c[n - 1];
      return p + n;
    }
  } else {
    return p;
  }
  return put_escaped_from(p, s, 0);
}

void append_json_escaped(std::string& out, std::string_view s) {
  // Most text needs no escape: appended in runs between the characters that do.
  static constexpr auto kEscaped = [] {
    std::array<bool, 256> t{};
    for (unsigned c = 0; c < 0x20; ++c) t[c] = true;
    t['"'] = t['\\'] = true;
    return t;
  }();
  std::size_t run = 0;
  while (run < s.size() && !kEscaped[static_cast<unsigned char>(s[run])]) ++run;
  out.append(s.data(), run);
  if (run == s.size()) return;
  s.remove_prefix(run);
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_json_escaped(out, s);
  return out;
}

void JsonWriter::newline() {
  if (!pretty_) return;
  out_ += '\n';
  out_.append(2 * first_.size(), ' ');
}

void JsonWriter::separate(std::string_view key) {
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
    newline();
  }
  if (!key.empty()) {
    out_ += '"';
    out_ += json_escape(key);
    out_ += pretty_ ? "\": " : "\":";
  }
}

JsonWriter& JsonWriter::begin_object(std::string_view key) {
  separate(key);
  out_ += '{';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_ += '}';
  return *this;
}

JsonWriter& JsonWriter::begin_array(std::string_view key) {
  separate(key);
  out_ += '[';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  bool empty = first_.back();
  first_.pop_back();
  if (!empty) newline();
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view key, std::string_view v) {
  separate(key);
  out_ += '"';
  out_ += json_escape(v);
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::null_field(std::string_view key) {
  separate(key);
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view key, bool v) {
  separate(key);
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view key, double v) {
  separate(key);
  // JSON has no NaN or infinity; null is the honest rendering of "no value".
  out_ += std::isfinite(v) ? fmt::format("{}", v) : "null";
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view key, std::uint64_t v) {
  separate(key);
  out_ += fmt::format("{}", v);
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view key, std::int64_t v) {
  separate(key);
  out_ += fmt::format("{}", v);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t v) {
  return field({}, v);
}
JsonWriter& JsonWriter::value(double v) {
  return field({}, v);
}
JsonWriter& JsonWriter::value(std::string_view v) {
  return field({}, v);
}

}  // namespace util
