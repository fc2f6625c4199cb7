#include "platform/kernel_host.h"

#include <algorithm>

#include <fmt/format.h>

#include "util/log.h"

namespace platform {

void write_histogram(util::JsonWriter& j, const char* key, const ke::Histogram& h) {
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

KernelHost::KernelHost(Platform& platform, const Config& c) : platform_(platform), config_(c) {
  hal::HalConfig hc;
  hc.pic.master = static_cast<std::uint16_t>(c.pic_master_port);
  hc.pic.slave = static_cast<std::uint16_t>(c.pic_slave_port);
  hc.pic.cascade = c.pic_cascade_irq;
  hc.pic.elcr = static_cast<std::uint16_t>(c.pic_elcr_port);
  for (unsigned irq : c.pic_level_irqs) hc.level_irqs |= static_cast<std::uint16_t>(1u << irq);
  hc.vector_base = static_cast<std::uint8_t>(c.workload_vector_base);
  hc.mode = c.kernel_irql_mode == "lazy" ? hal::IrqlMode::lazy : hal::IrqlMode::eager;
  hal_ = std::make_unique<hal::Hal>(platform.cpu, hc);
}

KernelHost::~KernelHost() = default;

void KernelHost::boot(std::function<void()> main, bool with_io, std::vector<std::string> raw) {
  ke::KernelConfig kc;
  kc.clock_irq = config_.timer_irq;
  kc.timer_port = static_cast<std::uint16_t>(config_.timer_port);
  kc.timer_clock_hz = config_.timer_clock_hz;
  kc.tick_hz = config_.workload_tick_hz;
  kc.quantum_ticks = static_cast<int>(config_.kernel_quantum_ticks);
  kc.costs = config_.kernel_costs;
  // The kernel is built on the boot context (its first thread is that context).
  platform_.cpu.boot(
      [this, kc, main = std::move(main), with_io, raw = std::move(raw)] {
        kernel_ = std::make_unique<ke::Kernel>(platform_.cpu, *hal_, kc);
        kernel_->initialize();
        if (with_io) {
          // The pool is the RAM above 1 MiB (below: vectors and the workloads' fixed buffers).
          pool_ = std::make_unique<io::Pool>(config_.ram_base + (1 << 20),
                                             config_.ram_size - (1 << 20));
          io_ = std::make_unique<io::IoManager>(*kernel_, *pool_);
          load_drivers(raw);
        }
        kernel_->run("main", 8, main);
      },
      1 << 20);
}

void KernelHost::load_drivers(const std::vector<std::string>& raw) {
  static util::Logger log("platform.host");
  auto driver = [&](const std::string& type) -> Driver* {
    for (auto& [name, d] : drivers_) {
      if (name == type) return d.get();
    }
    const DriverType* t = driver_types().find(type);
    if (t == nullptr) return nullptr;
    drivers_.emplace_back(type, t->create(*this, config_.driver_keys(type)));
    return drivers_.back().second.get();
  };
  std::map<std::string, unsigned> ordinals;
  for (const DeviceInstance& d : config_.devices) {
    if (d.driver == "none" || std::find(raw.begin(), raw.end(), d.name) != raw.end()) continue;
    Driver* drv = driver(d.driver);
    Device* model = platform_.device(d.name);
    io::DeviceObject* top =
        drv && model ? drv->add_device(d, *model, ordinals[d.driver]++) : nullptr;
    if (top == nullptr) {
      // The run goes on (a workload that needs the device reports itself unhealthy), but
      // never silently.
      log.error("driver {} could not add device {} ({}): AddDevice failed", d.driver, d.name,
                d.where);
      drivers_ready_ = false;
      continue;
    }
    for (const auto& f : d.filters) {
      Driver* filter = driver(f);
      io::DeviceObject* above = filter ? filter->attach(d, *top) : nullptr;
      if (above == nullptr) {
        log.error("filter {} could not attach over device {} ({})", f, d.name, d.where);
        drivers_ready_ = false;
        break;
      }
      top = above;
    }
  }
}

const ke::BugCheckRecord* KernelHost::bug_check() const {
  return kernel_ && kernel_->last_bug_check() ? &*kernel_->last_bug_check() : nullptr;
}

// Programming accesses to the 8259A pair (what lazy IRQL saves).
std::uint64_t KernelHost::pic_accesses() const {
  const auto m = platform_.intc->stats(false);
  const auto sl = platform_.intc->stats(true);
  return m.reads + m.writes + sl.reads + sl.writes;
}

void KernelHost::write_stats(util::JsonWriter& j) const {
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
  write_histogram(j, "isr_us", s.isr);
  write_histogram(j, "dpc_us", s.dpc);
  write_histogram(j, "isr_to_dpc_us", s.isr_to_dpc);
  write_histogram(j, "interrupt_to_thread_us", s.interrupt_to_thread);
  // Per driver, as Windows' DPC/ISR analysis lists them: each ISR and DPC by name.
  j.begin_array("isrs");
  for (const ke::Interrupt* i : kernel_->interrupt_objects()) {
    j.begin_object().field("name", i->name).field("irq", i->irq).field("count", i->count);
    write_histogram(j, "us", i->time);
    j.end_object();
  }
  j.end_array().begin_array("dpcs");
  for (const ke::Dpc* d : kernel_->dpc_objects()) {
    j.begin_object().field("name", d->name);
    write_histogram(j, "us", d->time);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  if (!io_) return;
  const auto& is = io_->stats();
  j.begin_object("io")
      .field("irps_allocated", is.irps_allocated)
      .field("irps_completed", is.irps_completed)
      .field("dispatches", is.dispatches)
      .field("completion_routines", is.completion_routines)
      .field("start_io", is.start_io)
      .field("cancelled", is.cancelled)
      .field("fast_io_hits", is.fast_io_hits)
      .field("fast_io_misses", is.fast_io_misses)
      .field("reads", is.reads)
      .field("writes", is.writes)
      .field("bytes_read", is.bytes_read)
      .field("bytes_written", is.bytes_written)
      .field("pool_peak", pool_->peak());
  write_histogram(j, "request_us", is.request_latency);
  j.end_object();
  j.begin_object("drivers");
  for (const auto& [name, d] : drivers_) {
    j.begin_object(name);
    d->write_stats(j);
    j.end_object();
  }
  j.end_object();
}

void KernelHost::print_summary(std::FILE* out) const {
  if (!kernel_) return;
  const auto& s = kernel_->stats();
  std::fprintf(
      out,
      "  kernel     %s IRQL: %llu interrupts (%llu deferred, %llu spurious), %llu/%llu "
      "DPCs run/queued, %llu thread switches, %llu PIC accesses\n",
      hal_->mode() == hal::IrqlMode::lazy ? "lazy" : "eager",
      static_cast<unsigned long long>(s.interrupts), static_cast<unsigned long long>(s.deferred),
      static_cast<unsigned long long>(s.spurious), static_cast<unsigned long long>(s.dpcs_executed),
      static_cast<unsigned long long>(s.dpcs_queued),
      static_cast<unsigned long long>(s.context_switches),
      static_cast<unsigned long long>(pic_accesses()));
  std::fprintf(out,
               "  latency    ISR %.2f us mean, DPC %.2f us mean, ISR->DPC %.2f us mean, "
               "interrupt->thread %.2f us mean (max %.2f)\n",
               s.isr.mean_ps() / 1e6, s.dpc.mean_ps() / 1e6, s.isr_to_dpc.mean_ps() / 1e6,
               s.interrupt_to_thread.mean_ps() / 1e6,
               static_cast<double>(s.interrupt_to_thread.max_ps()) / 1e6);
  if (io_) {
    const auto& is = io_->stats();
    std::fprintf(out,
                 "  io         %llu IRPs, %llu fast I/O hits (%llu misses), request %.1f us "
                 "mean (max %.1f)\n",
                 static_cast<unsigned long long>(is.irps_allocated),
                 static_cast<unsigned long long>(is.fast_io_hits),
                 static_cast<unsigned long long>(is.fast_io_misses),
                 is.request_latency.mean_ps() / 1e6,
                 static_cast<double>(is.request_latency.max_ps()) / 1e6);
    for (const auto& [name, d] : drivers_) {
      const std::string line = d->summary();
      if (!line.empty()) std::fprintf(out, "  driver     %s: %s\n", name.c_str(), line.c_str());
    }
  }
}

}  // namespace platform
