#include "hw/core/vcd_writer.h"

#include "hw/core/traced.h"
#include "util/out_buffer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>

#include <fmt/format.h>

#include "fstapi.h"
#include "util/log.h"

namespace hw {
namespace {
// Identifiers as SystemC gives them: five letters, "aaaaa", "aaaab", ... in registration order,
// so a file is the same byte for byte whichever writer wrote it.
constexpr std::size_t kIdLength = 5;

// Changes in time order (the list is appended in report order; a CPU running ahead reports
// some before earlier ones of the kernel's processes).
// (A closure, not a function: the sorts and the sortedness test inline it.)
constexpr auto earlier = [](const ChangeList::Change& a, const ChangeList::Change& b) {
  return a.t_ps < b.t_ps;
};

std::string identifier(std::size_t index) {
  std::string id(kIdLength, 'a');
  for (int i = static_cast<int>(kIdLength) - 1; i >= 0; --i) {
    id[static_cast<std::size_t>(i)] = static_cast<char>('a' + index % 26);
    index /= 26;
  }
  return id;
}

struct Scope {
  std::map<std::string, Scope> children;                  // by name, as SystemC sorts them
  std::vector<std::pair<std::string, std::size_t>> vars;  // leaf name, index; in order
};

constexpr std::size_t kBlock = 1 << 16;  // output written in blocks of about this size

// The date as SystemC's writer puts it in the header ("Dec 07, 2026       19:57:33").
std::string local_date() {
  char date[64] = "";
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%b %d, %Y       %H:%M:%S", &tm);
  return date;
}
}  // namespace

// The variables' dotted names as a tree of scopes (the VCD's and the FST's hierarchy).
template <typename Vars>
Scope scope_tree(const Vars& vars) {
  Scope top;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    Scope* s = &top;
    const std::string& name = vars[i].name;
    std::size_t from = 0;
    for (std::size_t dot; (dot = name.find('.', from)) != std::string::npos; from = dot + 1)
      s = &s->children[name.substr(from, dot - from)];
    s->vars.emplace_back(name.substr(from), i);
  }
  return top;
}

bool VcdWriter::is_fst(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".fst") == 0;
}

VcdWriter::VcdWriter(const std::string& path) : path_(path) {
  if (is_fst(path)) {
    fst_ = fstWriterCreate(path.c_str(), /*use_compressed_hier=*/1);
    if (fst_ != nullptr) fstWriterSetPackType(fst_, FST_WR_PT_LZ4);
  } else {
    file_ = std::fopen(path.c_str(), "w");
  }
  sc_core::sc_get_curr_simcontext()->add_trace_file(this);
  line_.reserve(kBlock + 4096);
}

VcdWriter::~VcdWriter() {
  close();
  // (SystemC's removal assumes the file is in its list.)
  if (registered_) sc_core::sc_get_curr_simcontext()->remove_trace_file(this);
}

// ---- registration

template <typename T>
void VcdWriter::add(const T& object, const std::string& name, int width) {
  if (initialized_) {
    util::Logger("vcd").warn("{}: traced after the VCD's header was written; not traced", name);
    return;
  }
  Var v;
  v.name = name;
  v.id = identifier(vars_.size());
  v.object = &object;
  v.bytes = std::is_same_v<T, bool> ? 0u : static_cast<unsigned>(sizeof(T));
  v.is_signed = std::is_signed_v<T> && !std::is_same_v<T, bool>;
  v.width = std::is_same_v<T, bool> ? 1 : width;
  vars_.push_back(std::move(v));
}

bool VcdWriter::add_watched(const void* object, unsigned bytes, bool is_signed, int width,
                            const std::string& name, std::uint32_t& var) {
  ChangeList& changes = ChangeList::instance();
  if (initialized_ || (changes.owner != nullptr && changes.owner != this)) return false;
  if (changes.owner == nullptr) {
    changes.owner = this;
    ++changes.generation;  // changes of an earlier writer's variables are not this one's
    changes.changes.clear();
  }
  Var v;
  v.name = name;
  v.id = identifier(vars_.size());
  v.object = object;
  v.bytes = bytes;
  v.is_signed = is_signed;
  v.width = width;
  v.watched = true;
  var = static_cast<std::uint32_t>(vars_.size());
  vars_.push_back(std::move(v));
  return true;
}

bool VcdWriter::add_alias(std::uint32_t first, const std::string& name) {
  ChangeList& changes = ChangeList::instance();
  if (initialized_ || changes.owner != this || first >= vars_.size()) return false;
  Var v = vars_[first];
  v.name = name;
  v.id = identifier(vars_.size());
  const auto var = static_cast<std::uint32_t>(vars_.size());
  vars_.push_back(std::move(v));
  if (aliases_.size() <= first) aliases_.resize(first + 1);
  aliases_[first].push_back(var);
  return true;
}

bool watch_alias(sc_core::sc_trace_file* tf, std::uint32_t first, const std::string& name) {
  auto* writer = dynamic_cast<VcdWriter*>(tf);
  return writer != nullptr && writer->add_alias(first, name);
}

bool reports_changes(sc_core::sc_trace_file* tf) {
  return dynamic_cast<VcdWriter*>(tf) != nullptr;
}

bool watch_variable(sc_core::sc_trace_file* tf, const void* object, unsigned bytes, bool is_signed,
                    int width, const std::string& name, std::uint32_t& var) {
  auto* writer = dynamic_cast<VcdWriter*>(tf);
  return writer != nullptr && writer->add_watched(object, bytes, is_signed, width, name, var);
}

void VcdWriter::unsupported(const std::string& name, const char* type) {
  util::Logger("vcd").warn("{}: a {} is not traced by iocosim's VCD writer", name, type);
}

void VcdWriter::trace(const bool& o, const std::string& n) {
  add(o, n, 1);
}
void VcdWriter::trace(const unsigned char& o, const std::string& n, int w) {
  add(o, n, w);
}
void VcdWriter::trace(const unsigned short& o, const std::string& n, int w) {
  add(o, n, w);
}
void VcdWriter::trace(const unsigned int& o, const std::string& n, int w) {
  add(o, n, w);
}
void VcdWriter::trace(const unsigned long& o, const std::string& n, int w) {
  add(o, n, w);
}
void VcdWriter::trace(const char& o, const std::string& n, int w) {
  add(o, n, w);
}
void VcdWriter::trace(const short& o, const std::string& n, int w) {
  add(o, n, w);
}
void VcdWriter::trace(const int& o, const std::string& n, int w) {
  add(o, n, w);
}
void VcdWriter::trace(const long& o, const std::string& n, int w) {
  add(o, n, w);
}
void VcdWriter::trace(const sc_dt::int64& o, const std::string& n, int w) {
  add(o, n, w);
}
void VcdWriter::trace(const sc_dt::uint64& o, const std::string& n, int w) {
  add(o, n, w);
}
void VcdWriter::trace(const sc_core::sc_event&, const std::string& n) {
  unsupported(n, "sc_event");
}
void VcdWriter::trace(const sc_core::sc_time&, const std::string& n) {
  unsupported(n, "sc_time");
}
void VcdWriter::trace(const sc_dt::sc_bit&, const std::string& n) {
  unsupported(n, "sc_bit");
}
void VcdWriter::trace(const sc_dt::sc_logic&, const std::string& n) {
  unsupported(n, "sc_logic");
}
void VcdWriter::trace(const float&, const std::string& n) {
  unsupported(n, "float");
}
void VcdWriter::trace(const double&, const std::string& n) {
  unsupported(n, "double");
}
void VcdWriter::trace(const sc_dt::sc_int_base&, const std::string& n) {
  unsupported(n, "sc_int");
}
void VcdWriter::trace(const sc_dt::sc_uint_base&, const std::string& n) {
  unsupported(n, "sc_uint");
}
void VcdWriter::trace(const sc_dt::sc_signed&, const std::string& n) {
  unsupported(n, "sc_signed");
}
void VcdWriter::trace(const sc_dt::sc_unsigned&, const std::string& n) {
  unsupported(n, "sc_unsigned");
}
void VcdWriter::trace(const sc_dt::sc_fxval&, const std::string& n) {
  unsupported(n, "sc_fxval");
}
void VcdWriter::trace(const sc_dt::sc_fxval_fast&, const std::string& n) {
  unsupported(n, "sc_fxval_fast");
}
void VcdWriter::trace(const sc_dt::sc_fxnum&, const std::string& n) {
  unsupported(n, "sc_fxnum");
}
void VcdWriter::trace(const sc_dt::sc_fxnum_fast&, const std::string& n) {
  unsupported(n, "sc_fxnum_fast");
}
void VcdWriter::trace(const sc_dt::sc_bv_base&, const std::string& n) {
  unsupported(n, "sc_bv");
}
void VcdWriter::trace(const sc_dt::sc_lv_base&, const std::string& n) {
  unsupported(n, "sc_lv");
}
void VcdWriter::trace(const unsigned int&, const std::string& n, const char**) {
  unsupported(n, "enumeration");
}

void VcdWriter::write_comment(const std::string& comment) {
  take_values();  // after what was written before it
  line_ += "$comment\n";
  line_ += comment;
  line_ += "\n$end\n\n";
}

void VcdWriter::set_time_unit(double v, sc_core::sc_time_unit tu) {
  const std::uint64_t ps = sc_core::sc_time(v, tu).value();
  unit_ps_ = ps == 0 ? 1 : ps;
}

// ---- values

std::uint64_t VcdWriter::read(const Var& v) const {
  switch (v.bytes) {
    case 0:
      return *static_cast<const bool*>(v.object) ? 1 : 0;
    case 1:
      return *static_cast<const std::uint8_t*>(v.object);
    case 2:
      return *static_cast<const std::uint16_t*>(v.object);
    case 4:
      return *static_cast<const std::uint32_t*>(v.object);
    default:
      return *static_cast<const std::uint64_t*>(v.object);
  }
}

char* VcdWriter::put_digits(char* p, const Var& v, std::uint64_t raw) {
  // Its binary digits without leading zeros (at least one), or a single x for a value that does
  // not fit its declared width, as SystemC shortens them. At most 64 characters.
  const unsigned bits = v.bytes == 0 ? 1 : 8 * v.bytes;
  bool fits = true;
  std::uint64_t value = raw;
  if (v.width <= 0) {
    fits = false;
  } else if (static_cast<unsigned>(v.width) < bits) {
    const std::uint64_t mask = (std::uint64_t{1} << v.width) - 1;
    if (v.is_signed) {
      // Sign-extended from `bits`: fits when every bit above the width equals its sign bit.
      const std::uint64_t sign_ext = bits == 64 ? raw
                                                : (raw & (std::uint64_t{1} << (bits - 1))
                                                       ? raw | ~((std::uint64_t{1} << bits) - 1)
                                                       : raw);
      const std::uint64_t high = sign_ext >> (v.width - 1);
      fits = high == 0 || high == (~std::uint64_t{0} >> (v.width - 1));
      value = sign_ext & mask;
    } else {
      fits = (raw & ~mask) == 0;
    }
  }
  if (!fits) {
    *p++ = 'x';
  } else if (value == 0) {
    *p++ = '0';
  } else {
    // The top nibble without its leading zeros, then four digits at a time. Each piece is
    // written as four bytes (the caller's room allows it), the pointer moved by its length.
    static constexpr char kNibbles[16][4] = {
        {'0', '0', '0', '0'}, {'0', '0', '0', '1'}, {'0', '0', '1', '0'}, {'0', '0', '1', '1'},
        {'0', '1', '0', '0'}, {'0', '1', '0', '1'}, {'0', '1', '1', '0'}, {'0', '1', '1', '1'},
        {'1', '0', '0', '0'}, {'1', '0', '0', '1'}, {'1', '0', '1', '0'}, {'1', '0', '1', '1'},
        {'1', '1', '0', '0'}, {'1', '1', '0', '1'}, {'1', '1', '1', '0'}, {'1', '1', '1', '1'}};
    struct Top {
      char digits[4];
      int length;
    };
    static constexpr Top kTop[16] = {{{'0'}, 1},
                                     {{'1'}, 1},
                                     {{'1', '0'}, 2},
                                     {{'1', '1'}, 2},
                                     {{'1', '0', '0'}, 3},
                                     {{'1', '0', '1'}, 3},
                                     {{'1', '1', '0'}, 3},
                                     {{'1', '1', '1'}, 3},
                                     {{'1', '0', '0', '0'}, 4},
                                     {{'1', '0', '0', '1'}, 4},
                                     {{'1', '0', '1', '0'}, 4},
                                     {{'1', '0', '1', '1'}, 4},
                                     {{'1', '1', '0', '0'}, 4},
                                     {{'1', '1', '0', '1'}, 4},
                                     {{'1', '1', '1', '0'}, 4},
                                     {{'1', '1', '1', '1'}, 4}};
    const int bits_used = 64 - __builtin_clzll(value);
    int shift = (bits_used - 1) / 4 * 4;
    const Top& top = kTop[(value >> shift) & 15];
    std::memcpy(p, top.digits, 4);
    p += top.length;
    for (shift -= 4; shift >= 0; shift -= 4) {
      std::memcpy(p, kNibbles[(value >> shift) & 15], 4);
      p += 4;
    }
  }
  return p;
}

void VcdWriter::append_digits(std::string& out, const Var& v, std::uint64_t raw) {
  char digits[64];
  out.append(digits, static_cast<std::size_t>(put_digits(digits, v, raw) - digits));
}

void VcdWriter::append_value(const Var& v, std::uint64_t raw) {
  // As SystemC writes them: a single bit as its digit before the identifier; a vector as "b",
  // its digits, a space and the identifier. Composed in place in the value buffer.
  char* p = values_.room(64 + 4 + kIdLength + 2);
  if (v.bytes == 0) {
    *p++ = raw != 0 ? '1' : '0';  // a bool (width 1): always fits
  } else {
    if (v.width != 1) *p++ = 'b';
    p = put_digits(p, v, raw);
    if (v.width != 1) *p++ = ' ';
  }
  std::memcpy(p, v.id.data(), kIdLength);  // every identifier has this length
  p += kIdLength;
  *p++ = '\n';
  values_.commit(p);
}

void VcdWriter::append_time(std::uint64_t units) {
  char* p = values_.room(40);
  *p++ = '#';
  constexpr std::uint64_t kLow = 100'000'000;
  if (units < kLow) {
    p = util::put_decimal(p, units);
  } else {
    // Consecutive stamps mostly share their digits above the last eight: those are formatted
    // when they change, the last eight each time.
    const std::uint64_t high = units / kLow;
    if (high != stamp_high_) {
      stamp_high_ = high;
      stamp_high_size_ =
          static_cast<unsigned>(util::put_decimal(stamp_high_text_, high) - stamp_high_text_);
    }
    std::memcpy(p, stamp_high_text_, sizeof stamp_high_text_);  // (room for all of it)
    p += stamp_high_size_;
    util::put_eight_digits(p, static_cast<std::uint32_t>(units % kLow));
    p += 8;
  }
  *p++ = '\n';
  values_.commit(p);
}

// ---- output

void VcdWriter::header() {
  const std::string date = local_date();
  std::string head =
      fmt::format("$date\n     {}\n$end\n\n$version\n {}\n$end\n\n", date, sc_core::sc_version());
  static constexpr std::pair<std::uint64_t, const char*> kScales[] = {{1, "1 ps"},
                                                                      {10, "10 ps"},
                                                                      {100, "100 ps"},
                                                                      {1'000, "1 ns"},
                                                                      {10'000, "10 ns"},
                                                                      {100'000, "100 ns"},
                                                                      {1'000'000, "1 us"},
                                                                      {10'000'000, "10 us"},
                                                                      {100'000'000, "100 us"},
                                                                      {1'000'000'000, "1 ms"},
                                                                      {10'000'000'000, "10 ms"},
                                                                      {100'000'000'000, "100 ms"},
                                                                      {1'000'000'000'000, "1 sec"}};
  for (const auto& [ps, text] : kScales)
    if (ps == unit_ps_) head += fmt::format("$timescale\n     {}\n$end\n\n", text);
  const Scope top = scope_tree(vars_);
  head += "$scope module SystemC $end\n";
  auto print = [&](const Scope& s, auto& self) -> void {
    for (const auto& [leaf, i] : s.vars) {
      const Var& v = vars_[i];
      if (v.width == 1)
        head += fmt::format("$var wire  {:>3}  {}  {}       $end\n", v.width, v.id, leaf);
      else
        head += fmt::format("$var wire  {:>3}  {}  {} [{}:0]  $end\n", v.width, v.id, leaf,
                            v.width - 1);
    }
    for (const auto& [name, child] : s.children) {
      head += fmt::format("$scope module {} $end\n", name);
      self(child, self);
      head += "$upscope $end\n";
    }
  };
  print(top, print);
  head += "$upscope $end\n$enddefinitions  $end\n\n";
  const double seconds = sc_core::sc_time_stamp().to_seconds();
  const std::uint64_t units = sc_core::sc_time_stamp().value() / unit_ps_;
  char comment[200];
  std::snprintf(comment, sizeof comment,
                "All initial values are dumped below at time %g sec = %g timescale units.", seconds,
                static_cast<double>(units));
  line_.insert(0, head);
  write_comment(comment);
  previous_units_ = units;
  line_ += "$dumpvars\n";
  settle_initial();
  for (std::uint32_t i = 0; i < vars_.size(); ++i) append_value(vars_[i], value_for(i));
  take_values();
  line_ += "$end\n\n";
  build_slots();
}

void VcdWriter::build_slots() {
  for (std::uint32_t i = 0; i < vars_.size(); ++i) {
    const Var& v = vars_[i];
    if (v.watched) continue;  // watched_last_: settle_initial()
    util::Logger("vcd").debug("{}: sampled every timestep", v.name);
    auto put = [&](auto& slots, auto* type) {
      using T = std::remove_pointer_t<decltype(type)>;
      slots.objects.push_back(static_cast<const T*>(v.object));
      slots.last.push_back(static_cast<T>(read(v)));
      slots.var.push_back(i);
    };
    switch (v.bytes) {
      case 0:  // bool: its byte (0 or 1)
      case 1:
        put(s1_, static_cast<std::uint8_t*>(nullptr));
        break;
      case 2:
        put(s2_, static_cast<std::uint16_t*>(nullptr));
        break;
      case 4:
        put(s4_, static_cast<std::uint32_t*>(nullptr));
        break;
      default:
        put(s8_, static_cast<std::uint64_t*>(nullptr));
        break;
    }
  }
}

void VcdWriter::cycle(bool delta_cycle) {
  if (delta_cycle || detached_ || !ok()) return;
  if (!initialized_) {
    initialized_ = true;
    if (fst_ != nullptr) {
      fst_header();
    } else {
      header();
      flush_line();
    }
    return;
  }
  const std::uint64_t now_ps = sc_core::sc_time_stamp().value();
  const std::uint64_t now = now_ps / unit_ps_;
  if (now < previous_units_) return;  // cannot happen with the kernel's time
  if (s1_.objects.empty() && s2_.objects.empty() && s4_.objects.empty() && s8_.objects.empty())
    return detach();
  changed_.clear();
  s1_.compare(changed_);
  s2_.compare(changed_);
  s4_.compare(changed_);
  s8_.compare(changed_);
  // The watched variables' changes up to now, in time order: earlier ones under their own time
  // stamps (a CPU running ahead made them; nothing ran at those instants since), this instant's
  // with the sampled ones.
  take_changes(now_ps, true, now);
  emit(now, changed_);
}

void VcdWriter::take_changes(std::uint64_t limit_ps, bool inclusive, std::uint64_t now) {
  ChangeList& changes = ChangeList::instance();
  if (changes.owner != this || changes.changes.empty()) return;
  auto& list = changes.changes;
  if (!std::is_sorted(list.begin(), list.end(), earlier))
    std::stable_sort(list.begin(), list.end(), earlier);
  const auto end =
      inclusive ? std::upper_bound(list.begin(), list.end(), limit_ps,
                                   [](std::uint64_t t, const auto& c) { return t < c.t_ps; })
                : std::lower_bound(list.begin(), list.end(), limit_ps,
                                   [](const auto& c, std::uint64_t t) { return c.t_ps < t; });
  if (end == list.begin()) return;
  if (group_value_.size() < vars_.size()) {
    group_value_.resize(vars_.size());
    marks_.assign((vars_.size() + 63) / 64, 0);
  }
  for (auto it = list.begin(); it != end;) {
    const std::uint64_t units = it->t_ps / unit_ps_;
    const std::uint64_t group_end = (units + 1) * unit_ps_;  // (no division per change)
    // The group's last value of each variable, marked in a bitmap: read back in bit order, the
    // variables come in registration order, as SystemC writes them, with no sort.
    std::size_t lo = marks_.size(), hi = 0;
    auto note = [&](std::uint32_t var, std::uint64_t value) {
      group_value_[var] = value;
      const std::size_t w = var >> 6;
      marks_[w] |= std::uint64_t{1} << (var & 63);
      lo = std::min(lo, w);
      hi = std::max(hi, w);
    };
    for (; it != end && it->t_ps < group_end; ++it) {
      note(it->var, it->value);
      if (it->var < aliases_.size())
        for (const std::uint32_t alias : aliases_[it->var]) note(alias, it->value);
    }
    // Those whose last value differs from what was written: `now`'s join the sampled ones,
    // an earlier instant's are written under its own time stamp.
    bool stamped = false;
    for (std::size_t w = lo; w <= hi && w < marks_.size(); ++w) {
      for (std::uint64_t bits = marks_[w]; bits != 0; bits &= bits - 1) {
        const auto var = static_cast<std::uint32_t>(w * 64 + __builtin_ctzll(bits));
        const std::uint64_t value = group_value_[var];
        if (value == watched_last_[var]) continue;
        watched_last_[var] = value;
        if (units == now) {
          changed_.push_back(var);
          continue;
        }
        if (!stamped) begin_stamp(units);
        stamped = true;
        put_value(var, value);
      }
      marks_[w] = 0;
    }
    if (stamped) end_stamp();
  }
  list.erase(list.begin(), end);
}

void VcdWriter::emit(std::uint64_t units, std::vector<std::uint32_t>& vars) {
  if (vars.empty()) return;
  std::sort(vars.begin(), vars.end());  // written in registration order, as SystemC does
  begin_stamp(units);
  for (const std::uint32_t i : vars) put_value(i, value_for(i));
  end_stamp();
}

void VcdWriter::begin_stamp(std::uint64_t units) {
  previous_units_ = units;
  if (fst_ != nullptr) {
    fst_time(units);
  } else {
    append_time(units);
  }
}

void VcdWriter::put_value(std::uint32_t var, std::uint64_t raw) {
  if (fst_ != nullptr) {
    fst_value(var, raw);
  } else {
    append_value(vars_[var], raw);
  }
}

void VcdWriter::end_stamp() {
  if (fst_ != nullptr) return;
  char* p = values_.room(1);
  *p++ = '\n';
  values_.commit(p);
  if (values_.size() >= kBlock) flush_line();
}

void VcdWriter::detach() {
  // Every variable reports its changes, each with its time: nothing needs the kernel's call at
  // every delta cycle and timestep (a third of what a VCD cost). The changes are taken in
  // batches; those before the kernel's current time unit are final (nothing can change a
  // variable before the kernel's time), so each batch writes whole time stamps.
  // The kernel calls this inside its loop over trace files: the writer leaves that list at its
  // first batch, from a process.
  ChangeList& changes = ChangeList::instance();
  if (changes.owner != this) return;
  detached_ = true;
  changes.flush = [](void* writer) { static_cast<VcdWriter*>(writer)->take_batch(); };
  changes.flush_at = kBatch;
}

void VcdWriter::take_batch() {
  if (registered_) {
    sc_core::sc_get_curr_simcontext()->remove_trace_file(this);
    registered_ = false;
  }
  ChangeList& changes = ChangeList::instance();
  const std::uint64_t unit_start = sc_core::sc_time_stamp().value() / unit_ps_ * unit_ps_;
  take_changes(unit_start, false, ~std::uint64_t{0});
  // What is left (a CPU running ahead of the kernel) waits for more.
  changes.flush_at = std::max(kBatch, 2 * changes.changes.size());
}

std::uint64_t VcdWriter::value_for(std::uint32_t var) const {
  return vars_[var].watched ? watched_last_[var] : read(vars_[var]);
}

void VcdWriter::settle_initial() {
  // A watched variable's value now: its current one, unless a CPU running ahead has changed it
  // since (a change later than now), then the value before the first such change.
  watched_last_.assign(vars_.size(), 0);
  for (std::uint32_t i = 0; i < vars_.size(); ++i)
    if (vars_[i].watched) watched_last_[i] = read(vars_[i]);
  ChangeList& changes = ChangeList::instance();
  if (changes.owner != this) return;
  const std::uint64_t now_ps = sc_core::sc_time_stamp().value();
  auto& list = changes.changes;
  std::stable_sort(list.begin(), list.end(), earlier);
  std::vector<std::uint8_t> seen(vars_.size(), 0);
  for (const auto& c : list) {
    if (c.t_ps <= now_ps || seen[c.var]) continue;
    seen[c.var] = 1;
    watched_last_[c.var] = c.old;
    if (c.var < aliases_.size())
      for (const std::uint32_t alias : aliases_[c.var]) watched_last_[alias] = c.old;
  }
  list.erase(list.begin(), std::find_if(list.begin(), list.end(),
                                        [&](const auto& c) { return c.t_ps > now_ps; }));
}

// ---- FST

void VcdWriter::fst_header() {
  const std::string date = local_date();
  fstWriterSetDate(fst_, date.c_str());
  fstWriterSetVersion(fst_, sc_core::sc_version());
  int exponent = -12;  // the time unit as a power of ten seconds
  for (std::uint64_t u = unit_ps_; u >= 10; u /= 10) ++exponent;
  fstWriterSetTimescale(fst_, exponent);
  // The same hierarchy as the VCD: SystemC, then the dotted names' scopes, sorted.
  const Scope top = scope_tree(vars_);
  handles_.assign(vars_.size(), 0);
  auto declare = [&](const Scope& s, auto& self) -> void {
    for (const auto& [leaf, i] : s.vars) {
      const Var& v = vars_[i];
      const std::string shown = v.width == 1 ? leaf : fmt::format("{} [{}:0]", leaf, v.width - 1);
      handles_[i] =
          fstWriterCreateVar(fst_, FST_VT_VCD_WIRE, FST_VD_IMPLICIT,
                             static_cast<std::uint32_t>(std::max(v.width, 1)), shown.c_str(), 0);
    }
    for (const auto& [name, child] : s.children) {
      fstWriterSetScope(fst_, FST_ST_VCD_MODULE, name.c_str(), nullptr);
      self(child, self);
      fstWriterSetUpscope(fst_);
    }
  };
  fstWriterSetScope(fst_, FST_ST_VCD_MODULE, "SystemC", nullptr);
  declare(top, declare);
  fstWriterSetUpscope(fst_);
  previous_units_ = sc_core::sc_time_stamp().value() / unit_ps_;
  fst_time(previous_units_);
  settle_initial();
  for (std::uint32_t i = 0; i < vars_.size(); ++i) fst_value(i, value_for(i));
  build_slots();
}

void VcdWriter::fst_time(std::uint64_t units) {
  fstWriterEmitTimeChange(fst_, units);
}

void VcdWriter::fst_value(std::uint32_t var, std::uint64_t raw) {
  // All the declared width's digits, most significant first (FST takes no short form); the
  // same fit rule as the VCD's (append_value): a value that does not fit is all x.
  const Var& v = vars_[var];
  const auto width = static_cast<std::size_t>(std::max(v.width, 1));
  digits_.clear();
  append_digits(digits_, v, raw);
  bits_.assign(width > digits_.size() ? width - digits_.size() : 0, digits_[0] == 'x' ? 'x' : '0');
  bits_ += digits_;
  fstWriterEmitValueChange(fst_, handles_[var], bits_.c_str());
}

void VcdWriter::take_values() {
  line_.append(values_.data(), values_.size());
  values_.clear();
}

void VcdWriter::flush_line() {
  if (file_ == nullptr) return;
  for (const auto& [data, size] : {std::pair<const char*, std::size_t>{line_.data(), line_.size()},
                                   {values_.data(), values_.size()}}) {
    if (size != 0 && std::fwrite(data, 1, size, file_) != size && write_errno_ == 0)
      write_errno_ = errno;
  }
  line_.clear();
  values_.clear();
}

std::string VcdWriter::close() {
  ChangeList& changes = ChangeList::instance();
  if (changes.owner == this) {
    // Changes before the end are written; later ones (a CPU that ran ahead of the last instant)
    // never happened in the run as it stands.
    if (initialized_ && ok())
      take_changes(sc_core::sc_time_stamp().value(), false, ~std::uint64_t{0});
    changes.owner = nullptr;
    ++changes.generation;  // its variables' registrations end with it
    changes.changes.clear();
    changes.flush = nullptr;
  }
  if (fst_ != nullptr) {
    const std::uint64_t now = sc_core::sc_time_stamp().value() / unit_ps_;
    if (initialized_ && now > previous_units_) fst_time(now);
    fstWriterClose(fst_);
    fst_ = nullptr;
    return {};
  }
  if (file_ == nullptr) return write_errno_ != 0 ? std::strerror(write_errno_) : std::string();
  if (initialized_) {
    // The end of the run as a last time stamp, as SystemC's writer does, so a viewer shows the
    // final values up to it.
    const std::uint64_t now = sc_core::sc_time_stamp().value() / unit_ps_;
    if (now > previous_units_) append_time(now);
  }
  flush_line();
  if (std::fclose(file_) != 0 && write_errno_ == 0) write_errno_ = errno;
  file_ = nullptr;
  return write_errno_ != 0 ? std::strerror(write_errno_) : std::string();
}

}  // namespace hw
