#pragma once
// iocosim's own VCD writer, in place of SystemC's (sc_create_vcd_trace_file): the same file,
// value change for value change (cli.vcd_writer in tests/platform/cli_checks.py compares them on
// the same run), for less host time. It is an sc_trace_file; at the end of each timestep the kernel
// calls cycle(). Variables that report their changes (hw::Traced, traced with hw::trace;
// hw/core/traced.h) are written from those reports, each at its own time, so only what changed
// is looked at and a CPU running ahead need not catch up for them. Plain variables registered
// with sc_trace() are sampled: compared with their last written value at every timestep in one
// loop over plain integers. With none sampled (iocosim's models alone), the writer leaves the
// kernel's per-timestep calls after the header and takes the reported changes in batches
// (detach()). Numbers are formatted without a std::stringstream. One difference from SystemC's
// file: with a time unit coarser than the instants things change at (set_time_unit(); the
// platform uses 1 ps), an instant's changes share their unit's one time stamp, where SystemC's
// writer repeats the stamp for each timestep inside the unit.
//
// Traced types: bool and the integral types (with their width). Others (sc_dt types, floating
// point, enums, events) are not traced; each is named once in a warning.
//
// A path ending in ".fst" is written as FST, GTKWave's compressed format, for long runs (the
// same signals, scopes and value changes; written with the fstapi Verilator's package installs).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <systemc>

#include "util/out_buffer.h"

namespace hw {

class VcdWriter : public sc_core::sc_trace_file {
 public:
  // Opens `path` for writing (ok() says whether it could) and registers with the kernel.
  explicit VcdWriter(const std::string& path);
  static bool is_fst(const std::string& path);
  ~VcdWriter() override;
  VcdWriter(const VcdWriter&) = delete;
  VcdWriter& operator=(const VcdWriter&) = delete;

  bool ok() const { return file_ != nullptr || fst_ != nullptr; }
  // Writes the final time stamp and closes the file: "" or why a write failed.
  std::string close();

  // --- sc_trace_file
  void trace(const bool& object, const std::string& name) override;
  void trace(const unsigned char& object, const std::string& name, int width) override;
  void trace(const unsigned short& object, const std::string& name, int width) override;
  void trace(const unsigned int& object, const std::string& name, int width) override;
  void trace(const unsigned long& object, const std::string& name, int width) override;
  void trace(const char& object, const std::string& name, int width) override;
  void trace(const short& object, const std::string& name, int width) override;
  void trace(const int& object, const std::string& name, int width) override;
  void trace(const long& object, const std::string& name, int width) override;
  void trace(const sc_dt::int64& object, const std::string& name, int width) override;
  void trace(const sc_dt::uint64& object, const std::string& name, int width) override;
  void trace(const sc_core::sc_event& object, const std::string& name) override;
  void trace(const sc_core::sc_time& object, const std::string& name) override;
  void trace(const sc_dt::sc_bit& object, const std::string& name) override;
  void trace(const sc_dt::sc_logic& object, const std::string& name) override;
  void trace(const float& object, const std::string& name) override;
  void trace(const double& object, const std::string& name) override;
  void trace(const sc_dt::sc_int_base& object, const std::string& name) override;
  void trace(const sc_dt::sc_uint_base& object, const std::string& name) override;
  void trace(const sc_dt::sc_signed& object, const std::string& name) override;
  void trace(const sc_dt::sc_unsigned& object, const std::string& name) override;
  void trace(const sc_dt::sc_fxval& object, const std::string& name) override;
  void trace(const sc_dt::sc_fxval_fast& object, const std::string& name) override;
  void trace(const sc_dt::sc_fxnum& object, const std::string& name) override;
  void trace(const sc_dt::sc_fxnum_fast& object, const std::string& name) override;
  void trace(const sc_dt::sc_bv_base& object, const std::string& name) override;
  void trace(const sc_dt::sc_lv_base& object, const std::string& name) override;
  void trace(const unsigned int& object, const std::string& name,
             const char** enum_literals) override;
  void write_comment(const std::string& comment) override;
  // A variable that reports its changes (hw::Traced, through hw::trace): compared only in the
  // timesteps it changed in. False when the header is written or another writer watches.
  bool add_watched(const void* object, unsigned bytes, bool is_signed, int width,
                   const std::string& name, std::uint32_t& var);
  // Variable `first` (watched) traced again as `name`: shown from first's changes.
  bool add_alias(std::uint32_t first, const std::string& name);
  void set_time_unit(double v, sc_core::sc_time_unit tu) override;

 protected:
  void cycle(bool delta_cycle) override;

 private:
  struct Var {
    std::string name;  // the full dotted name
    std::string id;
    const void* object;
    unsigned bytes;  // 0: bool
    bool is_signed;
    int width;
    bool watched = false;  // reports its changes (hw::Traced): not compared every timestep
  };
  template <typename T>
  void add(const T& object, const std::string& name, int width);
  void unsupported(const std::string& name, const char* type);
  std::uint64_t read(const Var& v) const;
  // The value's digits as SystemC shortens them (no leading zeros; x when it does not fit).
  static void append_digits(std::string& out, const Var& v, std::uint64_t raw);
  static char* put_digits(char* p, const Var& v, std::uint64_t raw);  // the same, at p
  void append_value(const Var& v, std::uint64_t raw);                 // a VCD value-change line
  void append_time(std::uint64_t units);                              // a VCD time stamp line
  void header();
  void flush_line();
  void take_values();  // values_ to the end of line_ (a comment comes after them)
  void fst_header();
  void fst_value(std::uint32_t var, std::uint64_t raw);
  void fst_time(std::uint64_t units);

  // The variables by size, for the per-timestep comparison: a tight loop over each class
  // (1 byte, bool included; 2; 4; 8), the changed ones then written in registration order.
  template <typename T>
  struct Slots {
    std::vector<const T*> objects;
    std::vector<T> last;
    std::vector<std::uint32_t> var;
    void compare(std::vector<std::uint32_t>& changed) {
      for (std::size_t i = 0; i < objects.size(); ++i)
        if (*objects[i] != last[i]) {
          last[i] = *objects[i];
          changed.push_back(var[i]);
        }
    }
  };
  void build_slots();
  // With no variable sampled, leaves the kernel's per-timestep calls and takes the watched
  // changes in batches of kBatch instead (take_batch()).
  void detach();
  void take_batch();
  static constexpr std::size_t kBatch = 256;
  bool detached_ = false;
  bool registered_ = true;  // in the kernel's list of trace files
  // The watched variables' changes before (or up to, `inclusive`) limit_ps: an instant other
  // than `now` written under its own time stamp, `now`'s added to changed_.
  void take_changes(std::uint64_t limit_ps, bool inclusive, std::uint64_t now);
  void emit(std::uint64_t units, std::vector<std::uint32_t>& vars);  // a time stamp's changes
  // A time stamp's lines, VCD or FST: its stamp, each variable's value, its end.
  void begin_stamp(std::uint64_t units);
  void put_value(std::uint32_t var, std::uint64_t raw);
  void end_stamp();
  std::uint64_t value_for(std::uint32_t var) const;  // the value to write for a variable
  void settle_initial();  // the watched variables' values at the header's instant

  std::FILE* file_ = nullptr;
  void* fst_ = nullptr;                 // the fstapi writer (FST output)
  std::vector<std::uint32_t> handles_;  // its handle of each variable
  std::string digits_, bits_;           // an FST value's digits, short and full width
  std::string path_;
  std::vector<Var> vars_;
  Slots<std::uint8_t> s1_;
  Slots<std::uint16_t> s2_;
  Slots<std::uint32_t> s4_;
  Slots<std::uint64_t> s8_;
  std::vector<std::uint32_t> changed_;
  std::vector<std::uint64_t> watched_last_;  // by variable: a watched one's last written value
  // One instant's watched changes being gathered (their last values), and an earlier instant's
  // variables to write.
  std::vector<std::uint64_t> group_value_;
  std::vector<std::uint64_t> marks_;                 // a bit per variable changed in the instant
  std::vector<std::vector<std::uint32_t>> aliases_;  // by watched variable: its other names
  std::string line_;        // the header and comments, written before values_
  util::OutBuffer values_;  // value changes composed in place, written in blocks
  std::uint64_t unit_ps_ = 1;
  std::uint64_t previous_units_ = 0;  // the time stamp last written
  // A time stamp's digits above its last eight, as last formatted (append_time()).
  std::uint64_t stamp_high_ = ~std::uint64_t{0};
  char stamp_high_text_[20] = {};
  unsigned stamp_high_size_ = 0;
  bool initialized_ = false;
  int write_errno_ = 0;
};

}  // namespace hw
