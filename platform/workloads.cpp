#include "platform/workloads.h"

#include <fmt/format.h>

#include "sw/apps/idle.h"
#include "sw/apps/kernel_apps.h"
#include "sw/hal/hal.h"
#include "sw/ke/kernel.h"

namespace platform {
namespace {

hal::PicPorts pic_ports(const Config& c) {
  hal::PicPorts p;
  p.master = static_cast<std::uint16_t>(c.pic_master_port);
  p.slave = static_cast<std::uint16_t>(c.pic_slave_port);
  p.cascade = c.pic_cascade_irq;
  return p;
}

drivers::OneShotDriver::Params oneshot(const Config& c, std::size_t i, const char* name) {
  drivers::OneShotDriver::Params p;
  p.name = name;
  p.port = static_cast<std::uint16_t>(c.oneshot_port + 0x10 * i);
  p.irq = c.oneshot_irqs[i];
  return p;
}

void histogram(util::JsonWriter& j, const char* key, const ke::Histogram& h) {
  j.begin_object(key)
      .field("count", h.count())
      .field("min_us", static_cast<double>(h.min_ps()) / 1e6)
      .field("mean_us", h.mean_ps() / 1e6)
      .field("max_us", static_cast<double>(h.max_ps()) / 1e6);
  j.begin_object("buckets");
  static constexpr const char* kLabels[] = {"0-1",   "1-2",   "2-3",    "3-4",     "4-5", "5-10",
                                            "10-25", "25-50", "50-100", "100-250", ">250"};
  for (std::size_t b = 0; b < ke::Histogram::kBuckets; ++b) j.field(kLabels[b], h.buckets()[b]);
  j.end_object().end_object();
}

class NoWorkload : public Workload {
 public:
  void write_stats(util::JsonWriter& j) const override {
    j.begin_object("workload").field("kind", "none").end_object();
  }
  void print_summary(std::FILE*) const override {}
};

class IdleWorkload : public Workload {
 public:
  IdleWorkload(Platform& p, const Config& c) {
    apps::IdleParams params;
    params.pic = pic_ports(c);
    params.vector_base = static_cast<std::uint8_t>(c.workload_vector_base);
    params.timer_port = static_cast<std::uint16_t>(c.timer_port);
    params.timer_irq = c.timer_irq;
    params.timer_clock_hz = c.timer_clock_hz;
    params.tick_hz = c.workload_tick_hz;
    idle_ = std::make_unique<apps::IdleLoop>(p.cpu, params);
    p.cpu.boot([this] { idle_->run(); });
  }
  void write_stats(util::JsonWriter& j) const override {
    const auto& n = idle_->counts();
    j.begin_object("workload")
        .field("kind", "idle")
        .field("ticks", n.ticks)
        .field("spurious", n.spurious)
        .field("unexpected", n.unexpected)
        .field("bus_errors", n.bus_errors)
        .end_object();
  }
  void print_summary(std::FILE* out) const override {
    const auto& n = idle_->counts();
    std::fprintf(out, "  workload   idle: %llu timer ticks, %llu spurious, %llu unexpected\n",
                 static_cast<unsigned long long>(n.ticks),
                 static_cast<unsigned long long>(n.spurious),
                 static_cast<unsigned long long>(n.unexpected));
  }
  bool healthy() const override {
    return idle_->counts().unexpected + idle_->counts().bus_errors == 0;
  }

 private:
  std::unique_ptr<apps::IdleLoop> idle_;
};

class KernelWorkload : public Workload {
 public:
  KernelWorkload(Platform& p, const Config& c) : platform_(p), kind_(c.workload) {
    hal::HalConfig hc;
    hc.pic = pic_ports(c);
    hc.vector_base = static_cast<std::uint8_t>(c.workload_vector_base);
    hc.mode = c.kernel_irql_mode == "lazy" ? hal::IrqlMode::lazy : hal::IrqlMode::eager;
    ke::KernelConfig kc;
    kc.clock_irq = c.timer_irq;
    kc.timer_port = static_cast<std::uint16_t>(c.timer_port);
    kc.timer_clock_hz = c.timer_clock_hz;
    kc.tick_hz = c.workload_tick_hz;
    kc.quantum_ticks = static_cast<int>(c.kernel_quantum_ticks);
    kc.costs = c.kernel_costs;
    hal_ = std::make_unique<hal::Hal>(p.cpu, hc);
    // The kernel is built on the boot context (its first thread is that context).
    p.cpu.boot(
        [this, &p, c, kc] {
          kernel_ = std::make_unique<ke::Kernel>(p.cpu, *hal_, kc);
          kernel_->initialize();
          std::function<void()> main;
          if (kind_ == "nested-interrupts") {
            nested_ = std::make_unique<apps::NestedInterrupts>(*kernel_, oneshot(c, 0, "low"),
                                                               oneshot(c, 1, "high"));
            main = [this] { nested_->main(); };
          } else if (kind_ == "device-loop") {
            loop_ = std::make_unique<apps::DeviceLoop>(
                *kernel_, oneshot(c, 0, "device"),
                static_cast<std::uint32_t>(c.workload_period_ps / 1000));
            main = [this] { loop_->main(); };
          } else if (kind_ == "bugcheck") {
            misbehave_ = std::make_unique<apps::Misbehave>(*kernel_, c.workload_bugcheck,
                                                           oneshot(c, 0, "faulty"));
            main = [this] { misbehave_->main(); };
          } else {
            apps::SystemWorkload::Params sp;
            sp.device = oneshot(c, 0, "device");
            sp.period_ns = static_cast<std::uint32_t>(c.workload_period_ps / 1000);
            system_ = std::make_unique<apps::SystemWorkload>(*kernel_, sp);
            main = [this] { system_->main(); };
          }
          kernel_->run("main", 8, main);
        },
        1 << 20);
  }

  void write_stats(util::JsonWriter& j) const override {
    j.begin_object("workload").field("kind", kind_);
    if (system_) {
      j.field("rounds", system_->counts().rounds)
          .field("timeouts", system_->counts().timeouts)
          .field("compute_chunks", system_->counts().compute_chunks)
          .field("device_interrupts", system_->device().interrupts());
    }
    j.end_object();
    if (!kernel_) return;
    const auto& s = kernel_->stats();
    const auto& h = hal_->stats();
    j.begin_object("kernel")
        .field("irql_mode", hal_->mode() == hal::IrqlMode::lazy ? "lazy" : "eager")
        .field("interrupts", s.interrupts)
        .field("spurious", s.spurious)
        .field("deferred", s.deferred)
        .field("replayed", s.replayed)
        .field("dpcs_queued", s.dpcs_queued)
        .field("dpcs_executed", s.dpcs_executed)
        .field("context_switches", s.context_switches)
        .field("irql_changes", s.irql_changes)
        .field("clock_ticks", s.clock_ticks)
        .field("pic_mask_programs", h.mask_programs)
        .field("pic_accesses", pic_accesses());
    histogram(j, "isr_us", s.isr);
    histogram(j, "dpc_us", s.dpc);
    histogram(j, "isr_to_dpc_us", s.isr_to_dpc);
    histogram(j, "interrupt_to_thread_us", s.interrupt_to_thread);
    j.end_object();
  }

  void print_summary(std::FILE* out) const override {
    if (!kernel_) return;
    const auto& s = kernel_->stats();
    std::fprintf(out,
                 "  kernel     %s IRQL: %llu interrupts (%llu deferred, %llu spurious), %llu/%llu "
                 "DPCs run/queued, "
                 "%llu thread switches, %llu PIC accesses\n",
                 hal_->mode() == hal::IrqlMode::lazy ? "lazy" : "eager",
                 static_cast<unsigned long long>(s.interrupts),
                 static_cast<unsigned long long>(s.deferred),
                 static_cast<unsigned long long>(s.spurious),
                 static_cast<unsigned long long>(s.dpcs_executed),
                 static_cast<unsigned long long>(s.dpcs_queued),
                 static_cast<unsigned long long>(s.context_switches),
                 static_cast<unsigned long long>(pic_accesses()));
    std::fprintf(out,
                 "  latency    ISR %.2f us mean, DPC %.2f us mean, ISR->DPC %.2f us mean, "
                 "interrupt->thread %.2f us mean (max %.2f)\n",
                 s.isr.mean_ps() / 1e6, s.dpc.mean_ps() / 1e6, s.isr_to_dpc.mean_ps() / 1e6,
                 s.interrupt_to_thread.mean_ps() / 1e6,
                 static_cast<double>(s.interrupt_to_thread.max_ps()) / 1e6);
    if (system_) {
      std::fprintf(out,
                   "  workload   system: %llu device rounds (%llu timeouts), %llu compute chunks\n",
                   static_cast<unsigned long long>(system_->counts().rounds),
                   static_cast<unsigned long long>(system_->counts().timeouts),
                   static_cast<unsigned long long>(system_->counts().compute_chunks));
    }
  }

  bool healthy() const override { return !system_ || system_->counts().timeouts == 0; }
  std::uint64_t device_interrupts() const override {
    if (system_) return system_->device().interrupts();
    if (loop_) return loop_->device().interrupts();
    return 0;
  }

 private:
  std::uint64_t pic_accesses() const {
    const auto m = platform_.intc->stats(false);
    const auto s = platform_.intc->stats(true);
    return m.reads + m.writes + s.reads + s.writes;
  }

  Platform& platform_;
  std::string kind_;
  std::unique_ptr<hal::Hal> hal_;
  std::unique_ptr<ke::Kernel> kernel_;
  std::unique_ptr<apps::NestedInterrupts> nested_;
  std::unique_ptr<apps::SystemWorkload> system_;
  std::unique_ptr<apps::DeviceLoop> loop_;
  std::unique_ptr<apps::Misbehave> misbehave_;
};

}  // namespace

std::unique_ptr<Workload> Workload::create(Platform& platform, const Config& config) {
  if (config.workload == "none") return std::make_unique<NoWorkload>();
  if (config.workload == "idle") return std::make_unique<IdleWorkload>(platform, config);
  return std::make_unique<KernelWorkload>(platform, config);
}

}  // namespace platform
