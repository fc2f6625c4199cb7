#include "platform/script.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "hw/core/sim_time.h"
#include "platform/platform.h"
#include "util/units.h"

namespace platform {
namespace {

struct OpInfo {
  const char* name;
  Op op;
  hw::Space space;
  unsigned width;
};

constexpr OpInfo kOps[] = {
    {"outb", Op::out, hw::Space::io, 1},
    {"outw", Op::out, hw::Space::io, 2},
    {"outl", Op::out, hw::Space::io, 4},
    {"inb", Op::in, hw::Space::io, 1},
    {"inw", Op::in, hw::Space::io, 2},
    {"inl", Op::in, hw::Space::io, 4},
    {"write8", Op::write, hw::Space::memory, 1},
    {"write16", Op::write, hw::Space::memory, 2},
    {"write32", Op::write, hw::Space::memory, 4},
    {"read8", Op::read, hw::Space::memory, 1},
    {"read16", Op::read, hw::Space::memory, 2},
    {"read32", Op::read, hw::Space::memory, 4},
    {"irq", Op::irq, hw::Space::io, 0},
    {"wait", Op::wait, hw::Space::io, 0},
    {"intr", Op::intr, hw::Space::io, 0},
    {"inta", Op::inta, hw::Space::io, 0},
    {"eject", Op::eject, hw::Space::io, 0},
    {"cpu", Op::cpu, hw::Space::io, 0},
};

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::uint64_t width_max(unsigned width) {
  return width >= 4 ? 0xffffffffull : (1ull << (8 * width)) - 1;
}

}  // namespace

Script parse_script_text(const std::string& text, const std::string& name) {
  Script script{name, {}};
  std::istringstream in(text);
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    std::string body = raw.substr(0, raw.find('#'));
    auto words = split(body);
    if (words.empty()) continue;
    auto err = [&](const std::string& msg) {
      return ScriptError(fmt::format("{}:{}: {}: {}", name, line, util::trim(body), msg));
    };
    const OpInfo* info = nullptr;
    for (const auto& o : kOps) {
      if (words[0] == o.name) info = &o;
    }
    if (info == nullptr) throw err(fmt::format("unknown command '{}'", words[0]));
    ScriptCommand c;
    c.line = line;
    c.text = util::trim(body);
    c.op = info->op;
    c.width = info->width;
    // Split off "== EXPECTATION".
    std::vector<std::string> args(words.begin() + 1, words.end());
    std::string expectation;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "==") {
        if (i + 2 != args.size()) throw err("'==' must be followed by exactly one value");
        expectation = args[i + 1];
        args.resize(i);
        break;
      }
    }
    auto number = [&](const std::string& w, const char* what) {
      std::uint64_t v;
      if (!util::parse_u64(w, v)) throw err(fmt::format("{} '{}' is not a number", what, w));
      return v;
    };
    const bool access = c.op == Op::out || c.op == Op::in || c.op == Op::write || c.op == Op::read;
    const bool writes = c.op == Op::out || c.op == Op::write;
    if (!expectation.empty()) {
      c.has_expect = true;
      if (expectation == "BUSERROR" && access) {
        c.expect_bus_error = true;
      } else if (writes) {
        throw err("a write can only expect BUSERROR");
      } else {
        c.expect = number(expectation, "expected value");
      }
    }
    const std::size_t want_args =
        access ? (writes ? 2 : 1)
               : (c.op == Op::irq                                            ? 2
                  : c.op == Op::wait || c.op == Op::eject || c.op == Op::cpu ? 1
                                                                             : 0);
    if (args.size() != want_args)
      throw err(fmt::format("takes {} argument{}, got {}", want_args, want_args == 1 ? "" : "s",
                            args.size()));
    switch (c.op) {
      case Op::out:
      case Op::in:
      case Op::write:
      case Op::read:
        c.address = number(args[0], c.op == Op::out || c.op == Op::in ? "port" : "address");
        if (info->space == hw::Space::io && c.address > 0xffff) throw err("ports are 16-bit");
        if (writes) {
          c.value = number(args[1], "value");
          if (c.value > width_max(c.width))
            throw err(fmt::format("value does not fit in {} byte(s)", c.width));
        }
        if (c.has_expect && !c.expect_bus_error && c.expect > width_max(c.width))
          throw err(fmt::format("expected value does not fit in {} byte(s)", c.width));
        break;
      case Op::irq:
        c.address = number(args[0], "IRQ");
        c.value = number(args[1], "level");
        if (c.address >= kIrqLines) throw err("IRQ numbers are 0..15");
        if (c.value > 1) throw err("the level is 0 or 1");
        if (c.has_expect) throw err("irq takes no expectation");
        break;
      case Op::wait:
        if (!util::parse_duration_ps(args[0], c.value))
          throw err(fmt::format("'{}' is not a duration such as 250ns", args[0]));
        if (c.has_expect) throw err("wait takes no expectation");
        break;
      case Op::intr:
        if (!c.has_expect || c.expect > 1) throw err("write it as 'intr == 0' or 'intr == 1'");
        break;
      case Op::eject:
        c.value = number(args[0], "slot");
        if (c.value == 0 || c.value > 31) throw err("PCI slots are 1..31");
        if (c.has_expect) throw err("eject takes no expectation");
        break;
      case Op::inta:
        if (c.has_expect && c.expect > 0xff) throw err("vectors are 0..0xff");
        break;
      case Op::cpu:
        c.value = number(args[0], "processor");
        if (c.has_expect) throw err("cpu takes no expectation");
        break;
    }
    script.commands.push_back(c);
  }
  return script;
}

Script parse_script(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ScriptError(fmt::format("{}: cannot open the script", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_script_text(ss.str(), path);
}

ScriptRunner::ScriptRunner(Platform& platform, const Script& script)
    : platform_(platform), script_(script), cpu_(&platform.cpu) {}

void ScriptRunner::check() const {
  for (const auto& c : script_.commands) {
    if (c.op == Op::cpu && c.value >= platform_.cpu_count())
      throw ScriptError(fmt::format("{}:{}: {}: the machine has {} processor{} (cpu.count)",
                                    script_.file, c.line, c.text, platform_.cpu_count(),
                                    platform_.cpu_count() == 1 ? "" : "s"));
    if (c.op == Op::eject && !platform_.pci.present(static_cast<unsigned>(c.value)))
      throw ScriptError(
          fmt::format("{}:{}: {}: PCI slot {} holds no function (devices on bus: "
                      "pci in the config)",
                      script_.file, c.line, c.text, c.value));
    if (c.op != Op::irq) continue;
    if (c.address == platform_.cascade_irq())
      throw ScriptError(fmt::format("{}:{}: {}: IRQ{} is the cascade input, driven by the slave",
                                    script_.file, c.line, c.text, c.address));
  }
}

void ScriptRunner::fail(const ScriptCommand& c, const std::string& message) {
  ++failures_;
  std::fprintf(stderr, "%s:%d: %s: %s\n", script_.file.c_str(), c.line, c.text.c_str(),
               message.c_str());
}

void ScriptRunner::settle() {
  // Let every signal change of this instant propagate (IRQ line -> PIC -> INTR) before looking,
  // at the CPU's own time: other processes may run only once it has caught up.
  cpu_->synchronize();
  do {
    cpu_->wait_delta();
  } while (sc_core::sc_pending_activity_at_current_time());
}

void ScriptRunner::expect(const ScriptCommand& c, bool faulted, std::uint64_t actual) {
  if (c.has_expect) ++checks_;
  if (c.expect_bus_error) {
    if (!faulted) fail(c, "expected a bus error, the access succeeded");
    return;
  }
  if (faulted) {
    fail(c, fmt::format("bus error: {}", fault_reason_));
    return;
  }
  if (c.has_expect && actual != c.expect)
    fail(c, fmt::format("expected {:#0{}x}, got {:#0{}x}", c.expect, 2 + 2 * c.width, actual,
                        2 + 2 * c.width));
}

void ScriptRunner::run() {
  for (unsigned i = 0; i < platform_.cpu_count(); ++i) platform_.cpu_at(i).set_trap_handler(this);
  for (const auto& c : script_.commands) {
    ++executed_;
    faulted_ = false;
    hw::cpu::Cpu& cpu = *cpu_;
    switch (c.op) {
      case Op::cpu:
        // One program, one command at a time, executed by the named processor: the one that
        // ran so far catches up with the kernel first, so only the new one runs ahead.
        cpu.synchronize();
        cpu_ = &platform_.cpu_at(static_cast<unsigned>(c.value));
        break;
      case Op::out:
      case Op::write: {
        cpu.write(c.op == Op::out ? hw::Space::io : hw::Space::memory, c.address, c.width,
                  static_cast<std::uint32_t>(c.value));
        expect(c, faulted_, 0);
        break;
      }
      case Op::in:
      case Op::read: {
        std::uint32_t v =
            cpu.read(c.op == Op::in ? hw::Space::io : hw::Space::memory, c.address, c.width);
        expect(c, faulted_, v);
        break;
      }
      case Op::irq:
        cpu.synchronize();  // the line changes at the CPU's time, not behind it
        platform_.drive_irq(static_cast<unsigned>(c.address), c.value != 0);
        settle();
        break;
      case Op::wait:
        cpu.idle_for(hw::from_ps(c.value));
        break;
      case Op::eject:
        cpu.synchronize();  // the card leaves at the CPU's time
        platform_.pci.eject_now(static_cast<unsigned>(c.value));
        settle();
        break;
      case Op::intr: {
        settle();
        ++checks_;
        bool v = cpu.interrupt_pending();
        if (v != (c.expect != 0))
          fail(c, fmt::format("expected INTR {}, got {}", c.expect, v ? 1 : 0));
        break;
      }
      case Op::inta: {
        settle();
        std::uint8_t v = cpu.acknowledge_cycle();
        if (c.has_expect) {
          ++checks_;
          if (v != c.expect)
            fail(c, fmt::format("expected vector {:#04x}, got {:#04x}", c.expect, v));
        }
        settle();
        break;
      }
    }
  }
}

void ScriptRunner::interrupt(std::uint8_t vector) {
  // Scripts run with IF clear, so the CPU never accepts an interrupt on its own.
  ++failures_;
  std::fprintf(stderr, "%s: unexpected interrupt vector %#04x accepted\n", script_.file.c_str(),
               vector);
}

void ScriptRunner::bus_error(const hw::BusFault& fault) {
  faulted_ = true;
  fault_reason_ = fault.reason;
}

}  // namespace platform
