#pragma once
// The one register facility every model uses: a register is declared once (name, offset, width,
// reset value, access, callbacks) and the bank answers every TLM access to it. Accesses that
// software gets wrong — unmapped offset, wrong width, read of a write-only register — become
// TLM error responses (which the CPU turns into a bus-error trap), never an assert.
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include <tlm>

namespace hw {

enum class Access : std::uint8_t { read_write, read_only, write_only };

class Register {
 public:
  Register(std::string name, std::uint64_t offset, unsigned width, std::uint32_t reset,
           Access access)
      : name_(std::move(name)),
        offset_(offset),
        width_(width),
        reset_(reset),
        access_(access),
        value_(reset) {}

  const std::string& name() const { return name_; }
  std::uint64_t offset() const { return offset_; }
  unsigned width() const { return width_; }
  Access access() const { return access_; }
  std::uint32_t reset_value() const { return reset_; }

  // The stored value; callbacks may ignore it for registers that are views of other state.
  std::uint32_t value() const { return value_; }
  void set(std::uint32_t v) { value_ = v & mask(); }
  void reset() { value_ = reset_; }
  std::uint32_t mask() const { return width_ >= 4 ? 0xffffffffu : (1u << (8 * width_)) - 1; }

  // Read callback: returns what software sees. Default: the stored value.
  std::function<std::uint32_t()> on_read;
  // Write callback: receives the written value (masked to the width). Default: store it.
  std::function<void(std::uint32_t)> on_write;

 private:
  std::string name_;
  std::uint64_t offset_;
  unsigned width_;
  std::uint32_t reset_;
  Access access_;
  std::uint32_t value_;
};

class RegisterBank {
 public:
  explicit RegisterBank(std::string owner) : owner_(std::move(owner)) {}
  RegisterBank(const RegisterBank&) = delete;  // the index points into regs_
  RegisterBank& operator=(const RegisterBank&) = delete;

  // Declares a register. Overlapping declarations are a model bug, reported by throwing
  // std::logic_error at construction (never reachable from software or configs).
  Register& add(const std::string& name, std::uint64_t offset, unsigned width, std::uint32_t reset,
                Access access);

  void reset();
  Register* find(std::uint64_t offset);

  // Serves one access; sets the payload's response status. Does not consume time.
  void transport(tlm::tlm_generic_payload& tx);

 private:
  std::string owner_;
  std::deque<Register> regs_;  // deque: references handed out by add() stay valid
  // Register by offset for the offsets a window has (an 8259A's 2, an APIC's 1 KiB): find()
  // is on every access, and the search over the deque cost a tenth of an interrupt's plumbing.
  static constexpr std::uint64_t kIndexed = 4096;
  std::vector<Register*> index_;
};

}  // namespace hw
