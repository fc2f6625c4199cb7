#pragma once
// A processor for sw/ unit tests, without SystemC: records every bus access, answers reads
// from a script of values, and keeps a simple cycle clock. Interrupts are delivered only when a
// test calls raise(), on the caller's stack, as the real CPU would at an instruction boundary.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hw/cpu/processor.h"

namespace tests {

// What FakeProcessor::stop() throws: a bug check or other stop unwinds the test's call.
struct Stopped {
  int exit_status;
};

class FakeProcessor : public hw::Processor {
 public:
  struct Access {
    hw::Space space;
    std::uint64_t address;
    unsigned width;
    bool write;
    std::uint32_t value;
    bool operator==(const Access& o) const {
      return space == o.space && address == o.address && width == o.width && write == o.write &&
             value == o.value;
    }
  };

  std::vector<Access> log;
  std::map<std::uint64_t, std::deque<std::uint32_t>> reads;  // port -> values to return, in order
  std::uint64_t cycles = 0;
  bool if_flag = false;
  bool intr = false;
  hw::TrapHandler* trap = nullptr;
  std::map<hw::Probe, std::uint32_t> probes;
  std::function<void()> on_halt;  // what "arrives" while halted, e.g. raise(vector)
  // What happens elsewhere while the software computes (another processor's work, a device
  // leaving): run once per consume() and cleared first, so it may consume in turn.
  std::function<void()> on_consume;

  // Port writes only, as (port, value) pairs: what most HAL tests compare.
  std::vector<std::pair<std::uint16_t, std::uint8_t>> port_writes() const {
    std::vector<std::pair<std::uint16_t, std::uint8_t>> out;
    for (const auto& a : log) {
      if (a.space == hw::Space::io && a.write)
        out.emplace_back(static_cast<std::uint16_t>(a.address), static_cast<std::uint8_t>(a.value));
    }
    return out;
  }
  // Delivers an interrupt the way the CPU does: IF cleared for the handler, restored after.
  void raise(std::uint8_t vector) {
    if (!if_flag || trap == nullptr) return;
    if_flag = false;
    trap->interrupt(vector);
    if_flag = true;
  }

  unsigned cpu_id() const override { return 0; }
  std::uint64_t clock_hz() const override { return 100'000'000; }
  std::uint64_t now_ps() const override { return cycles * 10'000; }
  std::uint32_t read(hw::Space space, std::uint64_t address, unsigned width) override {
    std::uint32_t v = 0;
    auto it = reads.find(address);
    if (it != reads.end() && !it->second.empty()) {
      v = it->second.front();
      it->second.pop_front();
    }
    log.push_back({space, address, width, false, v});
    ++cycles;
    return v;
  }
  void write(hw::Space space, std::uint64_t address, unsigned width, std::uint32_t value) override {
    log.push_back({space, address, width, true, value});
    ++cycles;
  }
  void consume(Cycles n, double) override {
    cycles += n;
    if (on_consume) std::exchange(on_consume, nullptr)();
  }
  void enable_interrupts() override { if_flag = true; }
  bool disable_interrupts() override {
    bool was = if_flag;
    if_flag = false;
    return was;
  }
  bool interrupts_enabled() const override { return if_flag; }
  void halt() override {
    if (on_halt) on_halt();
  }
  bool interrupt_pending() const override { return intr; }
  void set_trap_handler(hw::TrapHandler* h) override { trap = h; }
  void set_probe(hw::Probe p, std::uint32_t v) override { probes[p] = v; }
  hw::ContextId create_context(const std::string&, std::function<void()>, std::size_t) override {
    return hw::kNoContext;  // contexts need the real CPU
  }
  void switch_to(hw::ContextId) override {}
  hw::ContextId current_context() const override { return 0; }
  void power_off(int) override {}
  [[noreturn]] void stop(int exit_status) override { throw Stopped{exit_status}; }
};

}  // namespace tests
