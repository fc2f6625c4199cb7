#pragma once
// The processor interface of "the CPU running this code": every call goes to
// hw::running_processor() (or to the boot processor before any context has run). Software on
// several CPUs (the HAL, the kernel's IRQL and interrupt paths, drivers) holds this one object
// and so always touches its own processor, as code on real hardware reaches its own local APIC
// and its own IF through the same instructions.
#include <exception>
#include <vector>

#include "hw/cpu/processor.h"

namespace hal {

class CurrentProcessor : public hw::Processor {
 public:
  explicit CurrentProcessor(std::vector<hw::Processor*> processors)
      : processors_(std::move(processors)) {}

  hw::Processor& get() const {
    hw::Processor* p = hw::running_processor();
    return p != nullptr ? *p : *processors_.front();
  }
  const std::vector<hw::Processor*>& processors() const { return processors_; }

  unsigned cpu_id() const override { return get().cpu_id(); }
  std::uint64_t clock_hz() const override { return get().clock_hz(); }
  std::uint64_t now_ps() const override { return get().now_ps(); }
  std::uint32_t read(hw::Space space, std::uint64_t address, unsigned width) override {
    return get().read(space, address, width);
  }
  void write(hw::Space space, std::uint64_t address, unsigned width, std::uint32_t value) override {
    get().write(space, address, width, value);
  }
  void read_block(std::uint64_t address, void* data, std::size_t bytes, unsigned width) override {
    get().read_block(address, data, bytes, width);
  }
  void write_block(std::uint64_t address, const void* data, std::size_t bytes,
                   unsigned width) override {
    get().write_block(address, data, bytes, width);
  }
  void copy_block(std::uint64_t dst, std::uint64_t src, std::size_t bytes,
                  unsigned width) override {
    get().copy_block(dst, src, bytes, width);
  }
  void fill_block(std::uint64_t address, std::uint32_t value, std::size_t bytes,
                  unsigned width) override {
    get().fill_block(address, value, bytes, width);
  }
  void consume(Cycles cycles, double bus_share = 0.0) override { get().consume(cycles, bus_share); }
  void pause(Cycles cycles) override { get().pause(cycles); }
  void enable_interrupts() override { get().enable_interrupts(); }
  bool disable_interrupts() override { return get().disable_interrupts(); }
  bool interrupts_enabled() const override { return get().interrupts_enabled(); }
  void halt() override { get().halt(); }
  bool interrupt_pending() const override { return get().interrupt_pending(); }
  void set_trap_handler(hw::TrapHandler* handler) override {
    for (hw::Processor* p : processors_) p->set_trap_handler(handler);
  }
  void set_probe(hw::Probe probe, std::uint32_t value) override { get().set_probe(probe, value); }
  hw::ContextId create_context(const std::string& name, std::function<void()> entry,
                               std::size_t stack_bytes) override {
    return get().create_context(name, std::move(entry), stack_bytes);
  }
  void switch_to(hw::ContextId next) override { get().switch_to(next); }
  hw::ContextId current_context() const override { return get().current_context(); }
  bool context_portable(hw::ContextId id) const override { return get().context_portable(id); }
  void load_cr3(std::uint64_t pd) override { get().load_cr3(pd); }
  std::uint64_t cr3() const override { return get().cr3(); }
  std::uint64_t cr2() const override { return get().cr2(); }
  void set_paging(bool on) override { get().set_paging(on); }
  bool paging() const override { return get().paging(); }
  void invalidate_page(std::uint64_t va) override { get().invalidate_page(va); }
  void set_user_mode(bool user) override { get().set_user_mode(user); }
  void power_off(int exit_status) override { get().power_off(exit_status); }
  [[noreturn]] void stop(int exit_status) override {
    get().stop(exit_status);
    std::terminate();  // stop() never returns
  }

 private:
  std::vector<hw::Processor*> processors_;
};

}  // namespace hal
