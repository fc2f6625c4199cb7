#pragma once
// Register-level scripts: the CPU executes these instead of the software stack, so users and
// tests drive the hardware directly. Grammar and examples: docs/script.md.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "hw/cpu/cpu.h"
#include "util/suggest.h"

namespace platform {

class Platform;

class ScriptError : public std::runtime_error {
 public:
  explicit ScriptError(const std::string& what) : std::runtime_error(util::printable(what)) {}
};

enum class Op { out, in, write, read, irq, wait, intr, inta, eject, cpu };

struct ScriptCommand {
  int line = 0;
  std::string text;  // the line as written, for messages
  Op op = Op::out;
  unsigned width = 1;  // bytes, for accesses
  std::uint64_t address = 0;
  std::uint64_t value = 0;  // write value, irq level, wait duration (ps); eject: the PCI slot;
                            // cpu: the processor
  bool has_expect = false;
  bool expect_bus_error = false;
  std::uint64_t expect = 0;
};

struct Script {
  std::string file;
  std::vector<ScriptCommand> commands;
};

// Throws ScriptError "file:line: message" for anything malformed.
Script parse_script(const std::string& path);
Script parse_script_text(const std::string& text, const std::string& name);

class ScriptRunner : public hw::TrapHandler {
 public:
  ScriptRunner(Platform& platform, const Script& script);
  // Checks the script against the platform (IRQ lines that exist, PCI slots that hold a
  // function). Throws ScriptError.
  void check() const;
  // Runs on the CPU's boot context.
  void run();

  int failures() const { return failures_; }
  int checks() const { return checks_; }
  int executed() const { return executed_; }

  void interrupt(std::uint8_t vector) override;
  void bus_error(const hw::BusFault& fault) override;

 private:
  void fail(const ScriptCommand& c, const std::string& message);
  void settle();
  // Compares an access's outcome with its expectation; returns whether it passed.
  void expect(const ScriptCommand& c, bool faulted, std::uint64_t actual);

  Platform& platform_;
  const Script& script_;
  hw::cpu::Cpu* cpu_;  // the processor executing the commands (`cpu N` switches)
  bool faulted_ = false;
  std::string fault_reason_;
  int failures_ = 0, checks_ = 0, executed_ = 0;
};

}  // namespace platform
