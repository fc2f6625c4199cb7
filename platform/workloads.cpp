#include "platform/workloads.h"

#include <fmt/format.h>

#include "hw/core/sim_time.h"
#include "util/units.h"

#include "sw/apps/dma_transfer.h"
#include "sw/apps/idle.h"
#include "sw/apps/io_apps.h"
#include "sw/apps/kernel_apps.h"
#include "sw/drivers/disk/disk.h"
#include "sw/drivers/filter/filter.h"
#include "sw/drivers/serial/serial.h"
#include "sw/drivers/timer/timer.h"
#include "sw/hal/hal.h"
#include "sw/io/io_manager.h"
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
  KernelWorkload(Platform& p, const Config& c) : platform_(p), kind_(c.workload), config_(c) {
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
          if (kind_ == "io") {
            build_io(p, c);
            main = [this] { io_main(); };
          } else if (kind_ == "nested-interrupts") {
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
    if (io_) {
      const auto& a = app_counts();
      j.field("app", config_.io_app)
          .field("requests", a.requests)
          .field("bytes", a.bytes)
          .field("passes", a.passes)
          .field("mismatches", a.mismatches)
          .field("errors", a.errors)
          .field("compute_chunks", compute_chunks_)
          .field("timer_waits", ticks_);
    }
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
    // Per driver, as Windows' DPC/ISR analysis lists them: each ISR and DPC by name.
    j.begin_array("isrs");
    for (const ke::Interrupt* i : kernel_->interrupt_objects()) {
      j.begin_object().field("name", i->name).field("irq", i->irq).field("count", i->count);
      histogram(j, "us", i->time);
      j.end_object();
    }
    j.end_array().begin_array("dpcs");
    for (const ke::Dpc* d : kernel_->dpc_objects()) {
      j.begin_object().field("name", d->name);
      histogram(j, "us", d->time);
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
    histogram(j, "request_us", is.request_latency);
    j.end_object();
    const auto& ds = disk_->stats();
    j.begin_object("disk_driver")
        .field("transfer", config_.disk_transfer)
        .field("completion", config_.disk_completion)
        .field("requests", ds.requests)
        .field("sectors", ds.sectors)
        .field("errors", ds.errors)
        .field("interrupts", ds.interrupts)
        .field("polls", ds.polls)
        .end_object();
    const auto& ss = serial_->stats();
    j.begin_object("serial_driver")
        .field("completion", config_.serial_completion)
        .field("rx", ss.rx)
        .field("tx", ss.tx)
        .field("interrupts", ss.interrupts)
        .field("polls", ss.polls)
        .field("ring_overflows", ss.ring_overflows)
        .field("echoed", echo_ ? echo_->counts().bytes : 0)
        .end_object();
    if (filter_) {
      const auto& fs = filter_->stats();
      j.begin_object("filter_driver")
          .field("reads", fs.reads)
          .field("writes", fs.writes)
          .field("bytes", fs.bytes)
          .field("errors", fs.errors)
          .field("cache_hits", fs.cache_hits)
          .field("cache_misses", fs.cache_misses)
          .field("read_aheads", fs.read_aheads)
          .field("read_ahead_discarded", fs.read_ahead_discarded);
      histogram(j, "latency_us", fs.latency);
      j.end_object();
    }
  }

  const ke::BugCheckRecord* bug_check() const override {
    return kernel_ && kernel_->last_bug_check() ? &*kernel_->last_bug_check() : nullptr;
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
    if (io_) {
      const auto& a = app_counts();
      const auto& is = io_->stats();
      std::fprintf(
          out,
          "  workload   io (%s, %s %s): %llu requests, %llu bytes, %llu passes, %llu "
          "mismatches, %llu errors; %llu compute chunks\n",
          config_.io_app.c_str(), config_.disk_transfer.c_str(), config_.disk_completion.c_str(),
          static_cast<unsigned long long>(a.requests), static_cast<unsigned long long>(a.bytes),
          static_cast<unsigned long long>(a.passes), static_cast<unsigned long long>(a.mismatches),
          static_cast<unsigned long long>(a.errors),
          static_cast<unsigned long long>(compute_chunks_));
      std::fprintf(out,
                   "  io         %llu IRPs, %llu fast I/O hits (%llu misses), request %.1f us "
                   "mean (max %.1f)\n",
                   static_cast<unsigned long long>(is.irps_allocated),
                   static_cast<unsigned long long>(is.fast_io_hits),
                   static_cast<unsigned long long>(is.fast_io_misses),
                   is.request_latency.mean_ps() / 1e6,
                   static_cast<double>(is.request_latency.max_ps()) / 1e6);
    }
    if (system_) {
      std::fprintf(out,
                   "  workload   system: %llu device rounds (%llu timeouts), %llu compute chunks\n",
                   static_cast<unsigned long long>(system_->counts().rounds),
                   static_cast<unsigned long long>(system_->counts().timeouts),
                   static_cast<unsigned long long>(system_->counts().compute_chunks));
    }
  }

  bool healthy() const override {
    if (io_) return app_counts().mismatches == 0 && app_counts().errors == 0 && io_loaded_;
    return !system_ || system_->counts().timeouts == 0;
  }
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

  // The I/O stack: pool over the RAM above 1 MiB, the I/O manager, the disk driver with the
  // filter over it, the application and compute threads.
  void build_io(Platform& p, const Config& c) {
    pool_ = std::make_unique<io::Pool>(c.ram_base + (1 << 20), c.ram_size - (1 << 20));
    io_ = std::make_unique<io::IoManager>(*kernel_, *pool_);
    drivers::DiskDriver::Params dp;
    dp.port = static_cast<std::uint16_t>(c.disk_port);
    dp.irq = c.disk_irq;
    dp.sectors = c.disk_size / 512;
    dp.dma = c.disk_transfer == "dma";
    dp.polling = c.disk_completion == "polling";
    dp.dma_port = static_cast<std::uint16_t>(c.dma_port);
    dp.dma_channel = c.disk_dma_channel;
    dp.dma_mode = c.disk_dma_mode == "burst" ? 0 : c.disk_dma_mode == "cycle-stealing" ? 1 : 2;
    disk_ = std::make_unique<drivers::DiskDriver>(*io_, dp);
    io_loaded_ = disk_->load();
    if (io_loaded_ && c.filter) {
      drivers::FilterDriver::Params fp;
      fp.fast_io = c.filter_fast_io;
      fp.cache_sectors = c.filter_cache_sectors;
      fp.read_ahead_sectors = static_cast<std::uint32_t>(c.filter_read_ahead);
      filter_ = std::make_unique<drivers::FilterDriver>(*io_, fp);
      io_loaded_ = filter_->load(*disk_->device());
    }
    drivers::SerialDriver::Params sp;
    sp.port = static_cast<std::uint16_t>(c.serial_port);
    sp.irq = c.serial_irq;
    sp.polling = c.serial_completion == "polling";
    serial_ = std::make_unique<drivers::SerialDriver>(*io_, sp);
    io_loaded_ = io_loaded_ && serial_->load();
    if (c.io_serial_echo) echo_ = std::make_unique<apps::SerialEcho>(*io_);
    if (c.io_timer_period_ps != 0) {
      drivers::TimerDriver::Params tp;
      tp.port = static_cast<std::uint16_t>(c.oneshot_port);
      tp.irq = c.oneshot_irqs[0];
      timer_ = std::make_unique<drivers::TimerDriver>(*io_, tp);
      io_loaded_ = io_loaded_ && timer_->load();
    }
    apps::DiskAppParams ap;
    ap.first_lba = c.io_first_lba;
    ap.sectors = c.io_sectors;
    ap.request_sectors = static_cast<std::uint32_t>(c.io_request_sectors);
    ap.passes = c.io_passes;
    ap.random = c.io_app == "random";
    ap.copy_to_lba = c.io_first_lba + c.io_sectors;
    ap.queue_depth = c.io_queue_depth;
    if (c.io_app == "copy") {
      copy_ = std::make_unique<apps::FileCopy>(*io_, ap);
    } else if (c.io_app != "none") {
      exerciser_ = std::make_unique<apps::DiskExerciser>(*io_, ap);
    }
    (void)p;
  }
  void io_main() {
    hw::Processor& cpu = kernel_->cpu();
    for (unsigned i = 0; i < config_.io_compute_threads; ++i)
      kernel_->create_thread(fmt::format("compute{}", i), 8, [this, &cpu] {
        for (;;) {
          cpu.consume(5000, 0.3);
          ++compute_chunks_;
        }
      });
    if (echo_) kernel_->create_thread("echo", 13, [this] { echo_->main(); });
    if (timer_) kernel_->create_thread("ticker", 14, [this] { ticker(); });
    kernel_->set_priority_thread(*kernel_->current_thread(), 12);
    if (!io_loaded_) {
      cpu.power_off(1);
      return;
    }
    if (copy_) {
      copy_->main();
    } else if (exerciser_) {
      exerciser_->main();
    } else {
      for (;;) kernel_->delay_execution(1'000'000'000'000ull);  // no disk application
    }
    cpu.power_off(healthy() ? 0 : 1);
  }
  // Waits on the timer driver round after round: each wait an IRP through StartIo, the
  // one-shot's interrupt, the DPC and completion.
  void ticker() {
    io::Handle h;
    if (io_->open("\\Device\\Timer0", h) != io::Status::success) return;
    const std::uint64_t in = pool_->allocate(4);
    kernel_->cpu().write32(in, static_cast<std::uint32_t>(config_.io_timer_period_ps / 1000));
    for (;;) {
      io::IoStatusBlock st;
      if (io_->device_control(h, drivers::kIoctlTimerWait, in, 4, 0, 0, st) == io::Status::success)
        ++ticks_;
    }
  }
  const apps::DiskAppCounts& app_counts() const {
    static const apps::DiskAppCounts none;
    return copy_ ? copy_->counts() : exerciser_ ? exerciser_->counts() : none;
  }

  Platform& platform_;
  std::string kind_;
  Config config_;
  std::unique_ptr<io::Pool> pool_;
  std::unique_ptr<io::IoManager> io_;
  std::unique_ptr<drivers::DiskDriver> disk_;
  std::unique_ptr<drivers::FilterDriver> filter_;
  std::unique_ptr<apps::DiskExerciser> exerciser_;
  std::unique_ptr<apps::FileCopy> copy_;
  std::unique_ptr<drivers::SerialDriver> serial_;
  std::unique_ptr<apps::SerialEcho> echo_;
  std::unique_ptr<drivers::TimerDriver> timer_;
  std::uint64_t ticks_ = 0;
  bool io_loaded_ = false;
  std::uint64_t compute_chunks_ = 0;
  std::unique_ptr<hal::Hal> hal_;
  std::unique_ptr<ke::Kernel> kernel_;
  std::unique_ptr<apps::NestedInterrupts> nested_;
  std::unique_ptr<apps::SystemWorkload> system_;
  std::unique_ptr<apps::DeviceLoop> loop_;
  std::unique_ptr<apps::Misbehave> misbehave_;
};

// One DMA block transfer while the CPU computes; statistics of the transfer's own window.
class DmaTransferWorkload : public Workload {
 public:
  DmaTransferWorkload(Platform& p, const Config& c) : platform_(p), config_(c) {
    apps::DmaTransferParams a;
    a.pic = pic_ports(c);
    a.vector_base = static_cast<std::uint8_t>(c.workload_vector_base);
    a.dma_port = static_cast<std::uint16_t>(c.dma_port);
    a.dma_irq = c.dma_irq;
    a.from_disk = c.dma_source == "disk";
    // The disk's channel is wired to its DREQ; memory to memory uses channel 0 (or 2).
    a.channel = a.from_disk ? c.disk_dma_channel : (c.disk_dma_channel == 0 ? 2 : 0);
    a.mode = c.dma_mode == "burst" ? 0 : c.dma_mode == "cycle-stealing" ? 1 : 2;
    a.width = c.dma_width;
    a.disk_port = static_cast<std::uint16_t>(c.disk_port);
    a.bytes = static_cast<std::uint32_t>(c.dma_bytes);
    a.src = static_cast<std::uint32_t>(c.ram_base + 0x10000);
    a.dst = static_cast<std::uint32_t>(c.ram_base + 0x10000 + (a.from_disk ? 0 : c.dma_bytes));
    a.cpu_bus_share = c.dma_cpu_bus_share;
    channel_ = a.channel;
    app_ = std::make_unique<apps::DmaTransfer>(p.cpu, a);
    p.cpu.boot([this] {
      app_->run([this] { start_ = snapshot(); }, [this] { end_ = snapshot(); });
      platform_.cpu.power_off(healthy() ? 0 : 1);
    });
  }

  // The analytic transfer time in bus cycles (hw/bus/arbiter.h), for a device that is not the
  // bottleneck: burst U*c, cycle-stealing U*(c+g), transparent U*c/(1-f).
  double expected_cycles() const {
    const double units = static_cast<double>(config_.dma_bytes / config_.dma_width);
    const double c = config_.dma_source == "memory" ? 2.0 : 1.0;
    const double g = config_.bus_steal_gap;
    if (config_.dma_mode == "burst") return units * c;
    if (config_.dma_mode == "cycle-stealing") return units * (c + g);
    const double f = config_.dma_cpu_bus_share;
    return f >= 1.0 ? 0.0 : units * c / (1.0 - f);
  }

  void write_stats(util::JsonWriter& j) const override {
    const auto& r = app_->result();
    const auto& d = platform_.dma.stats(channel_);
    const std::uint64_t bus_cycle_ps = hw::to_ps(platform_.bus.cycle());
    const auto cycle_ps = static_cast<double>(bus_cycle_ps);
    const double transfer_cycles = static_cast<double>(d.busy_ps) / cycle_ps;
    const double window_ps = static_cast<double>(r.end_ps - r.start_ps);
    const double capacity =
        window_ps * 1e-12 * static_cast<double>(platform_.cpu.clock_hz());  // CPU cycles
    const std::uint64_t dma_cycles = end_.dma_cycles - start_.dma_cycles;
    const std::uint64_t cpu_cycles = end_.cpu_cycles - start_.cpu_cycles;
    // Whole bus cycles: the window covers every bus cycle it touches, from the one the channel
    // was enabled in to the one the interrupt handler saw the end in (masters are accounted in
    // whole cycles, so a fractional window would put the utilization above 1).
    const std::uint64_t window_cycles =
        (r.end_ps + bus_cycle_ps - 1) / bus_cycle_ps - r.start_ps / bus_cycle_ps;
    const std::uint64_t stall_cycles = (end_.stall_ps - start_.stall_ps) / bus_cycle_ps;
    j.begin_object("workload")
        .field("kind", "dma-transfer")
        .field("mode", config_.dma_mode)
        .field("source", config_.dma_source)
        .field("bytes", config_.dma_bytes)
        .field("width", config_.dma_width)
        .field("cpu_bus_share", config_.dma_cpu_bus_share)
        .field("channel", channel_)
        .field("completed", r.completed)
        .field("verified", r.verified)
        .field("transfer_ps", d.busy_ps)
        .field("transfer_bus_cycles", transfer_cycles)
        .field("expected_bus_cycles", expected_cycles())
        .field("throughput_MBps", d.busy_ps ? static_cast<double>(config_.dma_bytes) /
                                                  (static_cast<double>(d.busy_ps) * 1e-12) / 1e6
                                            : 0.0)
        .field("window_ps", r.end_ps - r.start_ps)
        .field("dma_bus_cycles", dma_cycles)
        .field("cpu_bus_cycles", cpu_cycles)
        .field("cpu_stall_cycles", stall_cycles)
        .field("work_cycles", r.work_cycles)
        .field("work_capacity_cycles", capacity)
        .field("work_rate", capacity > 0 ? static_cast<double>(r.work_cycles) / capacity : 0.0)
        .field("window_bus_cycles", window_cycles)
        .field("bus_utilization", window_cycles > 0 ? static_cast<double>(dma_cycles + cpu_cycles) /
                                                          static_cast<double>(window_cycles)
                                                    : 0.0)
        .field("interrupts", r.interrupts)
        .field("unexpected_interrupts", r.unexpected)
        .field("bus_errors", r.bus_errors)
        .end_object();
  }

  void print_summary(std::FILE* out) const override {
    const auto& r = app_->result();
    const auto& d = platform_.dma.stats(channel_);
    std::fprintf(
        out,
        "  workload   dma-transfer: %llu bytes %s, %s, in %s (%.0f bus cycles; "
        "analytic %.0f); CPU work %llu cycles; %s\n",
        static_cast<unsigned long long>(config_.dma_bytes), config_.dma_source.c_str(),
        config_.dma_mode.c_str(), util::format_time(d.busy_ps).c_str(),
        static_cast<double>(d.busy_ps) / static_cast<double>(hw::to_ps(platform_.bus.cycle())),
        expected_cycles(), static_cast<unsigned long long>(r.work_cycles),
        r.completed ? (r.verified ? "data verified" : "DATA MISMATCH") : "NOT COMPLETED");
  }

  bool healthy() const override {
    const auto& r = app_->result();
    return r.completed && r.verified && r.unexpected == 0 && r.bus_errors == 0;
  }

 private:
  struct Snapshot {
    std::uint64_t dma_cycles = 0, cpu_cycles = 0, stall_ps = 0;
  };
  Snapshot snapshot() const {
    // Master 0 is the CPU, 1 the DMA controller (Platform's constructor).
    return {platform_.bus.master_cycles(1), platform_.bus.master_cycles(0),
            platform_.cpu.stats().stall_ps};
  }

  Platform& platform_;
  Config config_;
  unsigned channel_ = 0;
  std::unique_ptr<apps::DmaTransfer> app_;
  Snapshot start_, end_;
};

}  // namespace

std::unique_ptr<Workload> Workload::create(Platform& platform, const Config& config) {
  if (config.workload == "none") return std::make_unique<NoWorkload>();
  if (config.workload == "idle") return std::make_unique<IdleWorkload>(platform, config);
  if (config.workload == "dma-transfer")
    return std::make_unique<DmaTransferWorkload>(platform, config);
  return std::make_unique<KernelWorkload>(platform, config);
}

}  // namespace platform
