#include "platform/kernel_host.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "hw/dma/dma.h"
#include "util/log.h"

namespace platform {
namespace {

// A device type's hardware ID on the root bus: the one it declares, or IOCOSIM\<type>.
std::string legacy_id(const DeviceType& t) {
  return t.legacy_id.empty() ? "IOCOSIM\\" + t.name : t.legacy_id;
}

}  // namespace

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
  hc.kind = c.hal == "apic" ? hal::HalKind::apic : hal::HalKind::pic;
  hc.processors = platform.cpu_count();
  hc.delivery = c.apic_delivery == "fixed" ? hal::ApicDelivery::fixed : hal::ApicDelivery::lowest;
  for (unsigned i = 0; i < platform.cpu_count(); ++i) processors_.push_back(&platform.cpu_at(i));
  cpu_ = &platform.cpu;
  if (processors_.size() > 1) {
    current_ = std::make_unique<hal::CurrentProcessor>(processors_);
    cpu_ = current_.get();
  }
  hal_ = std::make_unique<hal::Hal>(*cpu_, hc);
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
  kc.processors = processors_;
  // The kernel is built on the boot context (its first thread is that context).
  platform_.cpu.boot(
      [this, kc, main = std::move(main), with_io, raw = std::move(raw)] {
        kernel_ = std::make_unique<ke::Kernel>(*cpu_, *hal_, kc);
        kernel_->initialize();
        // The application processors start now (the INIT/startup IPIs of a real boot), each
        // on a boot context that becomes its idle thread.
        for (unsigned n = 1; n < processors_.size(); ++n) {
          cpu_->consume(kc.costs.processor_start);
          platform_.cpu_at(n).boot([this, n] { kernel_->start_processor(n); }, 1 << 20);
        }
        if (with_io) {
          start_mm();
          io_ = std::make_unique<io::IoManager>(*kernel_, *pool_);
          if (config_.mm.paging) io_->set_memory_manager(mm_.get());
          start_pnp(raw);
        }
        // The memory manager's threads start from the system thread (MmInitSystem phase 1), so
        // the boot context, still the idle thread's, never yields to them first.
        kernel_->run("main", 8, [this, with_io, main] {
          if (with_io) start_pagefile();
          main();
        });
      },
      1 << 20);
}

void KernelHost::start_mm() {
  const Config& c = config_;
  // Without paging the nonpaged pool is all the RAM above 1 MiB, as it always was.
  const std::uint64_t nonpaged = c.mm.paging ? c.mm.nonpaged_pool : c.ram_size - kLowRam;
  pool_ = std::make_unique<io::Pool>(c.ram_base + kLowRam, nonpaged);
  mm::MmConfig mc;
  mc.ram_base = c.ram_base;
  mc.ram_size = c.ram_size;
  mc.frames_base = c.ram_base + kLowRam + nonpaged;
  mc.frames_size = c.mm.paging ? page_frame_bytes(c) : 0;
  mc.paged_pool_size = c.mm.paged_pool;
  mc.low_pages = c.mm.low_pages;
  mc.modified_threshold = c.mm.modified_threshold;
  mc.write_cluster = c.mm.write_cluster;
  mc.balance_period_ps = c.mm.balance_period_ps;
  mc.zero_thread = c.mm.zero_thread;
  // The identity window: everything in memory space the bus decodes (RAM, the I/O APIC, memory
  // BARs' aperture), and each CPU's local APIC page, which the CPU itself decodes.
  for (const auto& m : platform_.bus.mappings())
    if (m.space == hw::Space::memory) mc.identity.emplace_back(m.base, m.size);
  mc.identity.emplace_back(c.pci_memory_base, c.pci_memory_size);
  if (c.hal == "apic") mc.identity.emplace_back(hal::kLocalApic, mm::kPageSize);
  mm_ = std::make_unique<mm::MemoryManager>(*kernel_, mc);
  if (c.mm.paging) mm_->initialize(*pool_);
  if (c.verifier.irql_checking && !c.verifier.drivers.empty()) {
    // Driver Verifier's Force IRQL Checking: a verified driver raising to DISPATCH_LEVEL finds
    // every pageable page gone, so a touch of one there stops the machine the first time.
    kernel_->set_raise_hook([this](ke::Irql) {
      if (!verified(kernel_->running_driver())) return;
      ++verifier_trims_;
      mm_->trim_system();
    });
  }
}

bool KernelHost::verified(const std::string& driver) const {
  auto base = [](std::string n) {
    for (auto& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (n.rfind("\\driver\\", 0) == 0) n = n.substr(8);
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".sys") == 0) n.resize(n.size() - 4);
    return n;
  };
  if (driver.empty()) return false;
  const std::string name = base(driver);
  for (const auto& d : config_.verifier.drivers)
    if (base(d) == name) return true;
  return false;
}

void KernelHost::start_pagefile() {
  const Config& c = config_;
  if (!c.mm.paging) return;
  if (!c.mm.pagefile_disk.empty()) {
    // Opened like any file: the handle keeps the device's objects if it is surprise-removed,
    // after which paging I/O fails (KERNEL_DATA_INPAGE_ERROR for kernel data), as on Windows.
    io::Handle h = io::kInvalidHandle;
    if (io_->open(device_path(c.mm.pagefile_disk), h) == io::Status::success)
      pagefile_ = std::make_unique<io::PagingFile>(*io_, c.mm.pagefile_disk, h,
                                                   c.mm.pagefile_offset, c.mm.pagefile_size);
    else
      util::Logger("platform.host")
          .error("mm.pagefile.disk: {} cannot be opened (its driver did not start): no pagefile",
                 c.mm.pagefile_disk);
  }
  mm_->start(pagefile_.get());
}

Driver* KernelHost::driver(const std::string& type) {
  for (auto& [name, d] : drivers_) {
    if (name == type) return d.get();
  }
  const DriverType* t = driver_types().find(type);
  if (t == nullptr) return nullptr;
  drivers_.emplace_back(type, t->create(*this, config_.driver_keys(type)));
  Driver* drv = drivers_.back().second.get();
  io::DriverObject* object = drv->object();
  if (object == nullptr) return drv;
  // DriverExtension->AddDevice: the instance the driver table matched this PDO to.
  object->add_device = [this, drv, type, filter = t->filter](io::DriverObject&,
                                                             io::DeviceObject& pdo) {
    auto it = pdo_instance_.find(&pdo);
    Device* model = it == pdo_instance_.end() ? nullptr : platform_.device(it->second->name);
    if (model == nullptr) return io::Status::no_such_device;
    io::DeviceObject* added = filter ? drv->attach(*it->second, *io_->get_attached_device(pdo))
                                     : drv->add_device(*it->second, *model, ordinals_[type]++, pdo);
    return added ? io::Status::success : io::Status::insufficient_resources;
  };
  return drv;
}

const DeviceInstance* KernelHost::instance_of(const io::DevNode& n) const {
  if (n.parent == nullptr) return nullptr;
  if (!n.tag.empty()) return config_.device(n.tag);
  // A PCI function: its instance ID is its slot.
  const std::size_t cut = n.instance_path.rfind('\\');
  if (n.instance_path.rfind("PCI\\", 0) != 0 || cut == std::string::npos) return nullptr;
  const unsigned slot =
      static_cast<unsigned>(std::strtoul(n.instance_path.c_str() + cut + 1, nullptr, 10));
  for (const auto& d : config_.devices)
    if (d.bus == "pci" && platform_.pci_slot(d.name) == slot) return config_.device(d.name);
  return nullptr;
}

const io::DevNode* KernelHost::node(const std::string& name) const {
  if (!pnp_) return nullptr;
  // The node that is there now, else the one that was removed.
  const io::DevNode* removed = nullptr;
  for (const auto& n : pnp_->nodes()) {
    const DeviceInstance* d = instance_of(*n);
    if (d == nullptr || d->name != name) continue;
    if (n->state != io::DevNodeState::removed) return n.get();
    if (removed == nullptr) removed = n.get();
  }
  return removed;
}

bool KernelHost::started(const std::vector<std::string>& instances) const {
  for (const auto& name : instances) {
    const io::DevNode* n = node(name);
    if (n == nullptr || n->state != io::DevNodeState::started) return false;
  }
  return true;
}

io::DriverBinding KernelHost::bind(const io::DevNode& n, const std::vector<std::string>& raw) {
  io::DriverBinding b;
  auto has_id = [&](const std::string& id) {
    return std::find(n.hardware_ids.begin(), n.hardware_ids.end(), id) != n.hardware_ids.end();
  };
  if (has_id("*PNP0A03")) {
    b.function = pci_ ? pci_->driver() : nullptr;
    return b;
  }
  const DeviceInstance* d = instance_of(n);
  if (d == nullptr) {
    b.problem = "no device instance of this machine is at this location";
    return b;
  }
  pdo_instance_[n.pdo] = d;
  if (d->driver == "none" || std::find(raw.begin(), raw.end(), d->name) != raw.end()) {
    b.raw = true;  // the workload programs it itself
    return b;
  }
  // The driver table: the instance's driver (its type's default, or the one it names) is
  // installed for the IDs of the types it serves; the node must carry one of them.
  const DriverType* t = driver_types().find(d->driver);
  std::vector<std::string> ids = t ? t->hardware_ids : std::vector<std::string>{};
  if (t && ids.empty()) {
    for (const auto& served : t->serves) {
      const DeviceType* dt = device_types().find(served);
      if (dt == nullptr) continue;
      if (dt->pci_device != 0)
        ids.push_back(
            fmt::format("PCI\\VEN_{:04X}&DEV_{:04X}", hw::bus::kPciVendor, dt->pci_device));
      ids.push_back(legacy_id(*dt));
    }
  }
  const bool match = std::any_of(ids.begin(), ids.end(), has_id);
  Driver* drv = match ? driver(d->driver) : nullptr;
  if (drv == nullptr || drv->object() == nullptr) {
    b.problem = fmt::format("driver {} is not installed for {}", d->driver,
                            n.hardware_ids.empty() ? "(no ID)" : n.hardware_ids.front());
    return b;
  }
  b.function = drv->object();
  for (const auto& f : d->filters) {
    Driver* filter = driver(f);
    if (filter && filter->object()) b.upper_filters.push_back(filter->object());
  }
  return b;
}

void KernelHost::start_pnp(const std::vector<std::string>& raw) {
  static util::Logger log("platform.host");
  const Config& c = config_;
  pnp_ = std::make_unique<io::PnpManager>(*io_);
  pnp_->set_remove_after_close(c.pnp_remove == "after_close");
  auto ports = [](std::uint64_t base, std::uint64_t length) {
    io::ResourceRequirement r;
    r.type = io::ResourceType::port;
    r.length = length;
    r.minimum = base;
    r.maximum = base + length - 1;
    return r;
  };
  auto irq = [&](unsigned n) {
    io::ResourceRequirement r;
    r.type = io::ResourceType::interrupt;
    r.level =
        std::find(c.pic_level_irqs.begin(), c.pic_level_irqs.end(), n) != c.pic_level_irqs.end();
    r.share = r.level ? io::Share::shared : io::Share::exclusive;
    r.choices = {n};
    return r;
  };
  // The root enumerator's devices: the chipset, then the legacy (ISA) instances, each at the
  // resources it is wired to.
  pnp_->add_root_device({"*PNP0000",
                         "8259A programmable interrupt controller pair",
                         {"*PNP0000"},
                         {ports(c.pic_master_port, 2), ports(c.pic_slave_port, 2),
                          ports(c.pic_elcr_port, 2), irq(c.pic_cascade_irq)},
                         true,
                         ""});
  pnp_->add_root_device({"*PNP0100",
                         "8254 programmable interval timer",
                         {"*PNP0100"},
                         {ports(c.timer_port, 4), irq(c.timer_irq)},
                         true,
                         ""});
  pnp_->add_root_device({"*PNP0200",
                         "DMA controller",
                         {"*PNP0200"},
                         {ports(c.dma_port, hw::dma::window_size(c.dma_channels)), irq(c.dma_irq)},
                         true,
                         ""});
  drivers::PciDriver::Params pp;
  pp.config_port = static_cast<std::uint16_t>(hw::bus::kPciConfigPort);
  pp.io_base = c.pci_io_base;
  pp.io_size = c.pci_io_size;
  pp.memory_base = c.pci_memory_base;
  pp.memory_size = c.pci_memory_size;
  pp.irqs = c.pci_irqs;
  for (const DeviceInstance& d : c.devices) {
    const DeviceType* type = device_types().find(d.type);
    if (d.bus == "pci") {
      // The board's wiring the PCI bus cannot describe: an ISA DMA channel (firmware's table).
      for (const auto& spec : type->keys)
        if (spec.resource == Resource::dma_channel && d.settings.has(spec.name))
          pp.dma[platform_.pci_slot(d.name)] = d.settings.u32(spec.name);
      continue;
    }
    io::RootDevice rd;
    rd.id = legacy_id(*type);
    rd.hardware_ids = {rd.id};
    rd.description = d.name + ": " + type->help;
    rd.tag = d.name;
    for (const auto& spec : type->keys) {
      if (!d.settings.has(spec.name)) continue;
      if (spec.resource == Resource::io_window)
        rd.requirements.push_back(ports(d.settings.number(spec.name), spec.window));
      else if (spec.resource == Resource::irq)
        rd.requirements.push_back(irq(d.settings.u32(spec.name)));
      else if (spec.resource == Resource::dma_channel) {
        io::ResourceRequirement dma;
        dma.type = io::ResourceType::dma;
        dma.choices = {d.settings.u32(spec.name)};
        rd.requirements.push_back(dma);
      }
    }
    pnp_->add_root_device(rd);
  }
  io::ResourceRequirements bridge = {ports(hw::bus::kPciConfigPort, hw::bus::kPciConfigWindow)};
  if (platform_.pci_used()) {
    // The bridge's own INTA# (hot-plug events) goes through the router like a function's.
    io::ResourceRequirement hotplug;
    hotplug.type = io::ResourceType::interrupt;
    hotplug.share = io::Share::shared;
    hotplug.level = true;
    hotplug.choices = c.pci_irqs;
    bridge.push_back(hotplug);
  }
  pnp_->add_root_device({"*PNP0A03", "PCI host bridge", {"*PNP0A03"}, bridge, false, ""});
  pci_ = std::make_unique<drivers::PciDriver>(*io_, *pnp_, pp);
  pci_->driver_entry();
  pnp_->set_driver_table([this, raw](const io::DevNode& n) { return bind(n, raw); });
  pnp_->enumerate();
  // Every instance with a driver must have started; say which did not, and why.
  for (const DeviceInstance& d : c.devices) {
    const io::DevNode* n = node(d.name);
    if (n != nullptr && n->state == io::DevNodeState::started) continue;
    log.error("device {} ({}) was not started: {}", d.name, d.where,
              n ? n->problem : "its bus did not report it");
    if (!(n && n->raw)) drivers_ready_ = false;
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
  // Written from the start with paging configured (zeros until boot), so a sweep's probe of a
  // run cut short finds every mm key.
  if (config_.mm.paging) write_mm_stats(j);
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
  if (hal_->apic())
    j.field("hal", "apic")
        .field("tpr_writes", h.tpr_writes)
        .field("apic_eois", h.eois)
        .field("ipis", s.ipis)
        .field("migrations", s.migrations)
        .field("ioapic_programs", h.redirections);
  if (kernel_->processor_count() > 1 || s.spin_waits != 0)
    j.field("spin_waits", s.spin_waits)
        .field("spin_wait_us", static_cast<double>(s.spin_wait_ps) / 1e6);
  if (kernel_->processor_count() > 1) {
    // Per processor, as Windows' per-CPU counters (and the report) show them.
    static constexpr const char* kBands[] = {"passive", "apc", "dispatch", "device", "high"};
    j.begin_array("processors");
    for (unsigned n = 0; n < kernel_->processor_count(); ++n) {
      const ke::Prcb& p = kernel_->processor(n);
      const auto t = kernel_->irql_time(n);
      j.begin_object()
          .field("cpu", n)
          .field("interrupts", p.stats.interrupts)
          .field("dpcs_executed", p.stats.dpcs_executed)
          .field("context_switches", p.stats.context_switches)
          .field("irql_changes", p.stats.irql_changes)
          .field("ipis_sent", p.stats.ipis_sent)
          .field("ipis_received", p.stats.ipis_received)
          .field("migrations", p.stats.migrations)
          .field("spin_waits", p.stats.spin_waits)
          .field("spin_wait_us", static_cast<double>(p.stats.spin_wait_ps) / 1e6)
          .field("threads", p.threads);
      j.begin_object("irql_us");
      for (unsigned b = 0; b < ke::kIrqlBands; ++b)
        j.field(kBands[b], static_cast<double>(t[b]) / 1e6);
      j.end_object().end_object();
    }
    j.end_array();
  }
  write_histogram(j, "isr_us", s.isr);
  write_histogram(j, "dpc_us", s.dpc);
  write_histogram(j, "isr_to_dpc_us", s.isr_to_dpc);
  write_histogram(j, "interrupt_to_thread_us", s.interrupt_to_thread);
  // ISR and DPC time per processor over the run, bucket by bucket (the report's timeline).
  {
    const ke::Timeline& t = kernel_->timeline();
    std::size_t buckets = 0;
    for (const auto& c : t.cpus) buckets = std::max({buckets, c.isr_ps.size(), c.dpc_ps.size()});
    j.begin_object("timeline").field("bucket_us", static_cast<double>(t.bucket_ps) / 1e6);
    j.begin_array("cpus");
    for (unsigned n = 0; n < kernel_->processor_count(); ++n) {
      j.begin_object().field("cpu", n);
      for (const bool isr : {true, false}) {
        j.begin_array(isr ? "isr_us" : "dpc_us");
        for (std::size_t b = 0; b < buckets; ++b) {
          const auto* v =
              n < t.cpus.size() ? (isr ? &t.cpus[n].isr_ps : &t.cpus[n].dpc_ps) : nullptr;
          j.value(v != nullptr && b < v->size() ? static_cast<double>((*v)[b]) / 1e6 : 0.0);
        }
        j.end_array();
      }
      j.end_object();
    }
    j.end_array().end_object();
  }
  // Per driver, as Windows' DPC/ISR analysis lists them: each ISR and DPC by name.
  j.begin_array("isrs");
  for (const ke::Interrupt* i : kernel_->interrupt_objects()) {
    j.begin_object().field("name", i->name).field("irq", i->irq).field("count", i->count);
    j.field("claims", i->claims);
    if (!i->owner.empty()) j.field("driver", i->owner);
    write_histogram(j, "us", i->time);
    j.end_object();
  }
  j.end_array().begin_array("dpcs");
  for (const ke::Dpc* d : kernel_->dpc_objects()) {
    j.begin_object().field("name", d->name);
    if (!d->owner.empty()) j.field("driver", d->owner);
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
      .field("pool_peak", pool_->peak())
      .field("pnp_irps", is.pnp_irps);
  write_histogram(j, "request_us", is.request_latency);
  j.end_object();
  if (pnp_) {
    const auto& ps = pnp_->stats();
    j.begin_object("pnp")
        .field("enumerations", ps.enumerations)
        .field("started", ps.started)
        .field("not_started", ps.not_started)
        .field("removed", ps.removed)
        .field("drivers_unloaded", ps.unloaded)
        .field("irps", ps.irps);
    j.begin_array("nodes");
    for (const auto& n : pnp_->nodes()) {
      const DeviceInstance* d = instance_of(*n);
      j.begin_object()
          .field("path", n->instance_path)
          .field("instance", d ? d->name : "")
          .field("state", io::to_string(n->state))
          .field("driver", n->service)
          .field("problem", n->problem);
      j.begin_array("resources");
      for (const auto& r : n->raw_resources) j.value(io::describe(r));
      j.end_array().end_object();
    }
    j.end_array().end_object();
  }
  j.begin_object("drivers");
  for (const auto& [name, d] : drivers_) {
    j.begin_object(name);
    d->write_stats(j);
    j.end_object();
  }
  j.end_object();
}

void KernelHost::write_mm_stats(util::JsonWriter& j) const {
  static const mm::MmStats kNone;
  const mm::MmStats& m = mm_ ? mm_->stats() : kNone;
  j.begin_object("mm")
      .field("frames", mm_ ? mm_->frames() : 0)
      .field("available", mm_ ? mm_->available_pages() : 0);
  j.begin_object("lists");
  for (unsigned l = 0; l < mm::kPageStates; ++l) {
    const auto state = static_cast<mm::PageState>(l);
    j.field(mm::to_string(state), mm_ ? mm_->list_count(state) : 0);
  }
  j.end_object();
  j.field("faults", m.faults)
      .field("demand_zero", m.demand_zero)
      .field("soft", m.soft)
      .field("hard", m.hard)
      .field("collided", m.collided)
      .field("protection", m.protection)
      .field("access_violations", m.access_violations)
      .field("paging_reads", m.paging_reads)
      .field("paging_writes", m.paging_writes)
      .field("paging_read_errors", m.paging_read_errors)
      .field("hard_fault_us_mean",
             m.hard > 0 ? static_cast<double>(m.hard_fault_ps) / 1e6 / static_cast<double>(m.hard)
                        : 0.0)
      .field("writer_runs", m.writer_runs)
      .field("trims", m.trims)
      .field("pages_trimmed", m.pages_trimmed)
      .field("pages_zeroed", m.pages_zeroed)
      .field("repurposed", m.repurposed)
      .field("waits_for_pages", m.waits_for_pages)
      .field("tb_flushes", m.tb_flushes)
      .field("verifier_trims", verifier_trims_);
  const mm::PagingDevice* pf = mm_ ? mm_->pagefile() : nullptr;
  j.begin_object("pagefile")
      .field("disk", pf ? pf->name() : std::string())
      .field("slots", pf ? pf->slots() : 0)
      .field("used", mm_ ? mm_->pagefile_slots_used() : 0)
      .end_object();
  j.begin_array("working_sets");
  if (mm_)
    for (const auto& p : mm_->processes())
      j.begin_object()
          .field("process", p->name)
          .field("pages", static_cast<std::uint64_t>(p->working_set.size()))
          .field("peak", p->peak_working_set)
          .end_object();
  j.end_array();
  // Like the debugger's !poolused: allocations, frees and bytes in use by tag and pool.
  j.begin_array("pool");
  static const std::map<std::uint32_t, std::pair<mm::PoolTagStats, mm::PoolTagStats>> kNoTags;
  for (const auto& [tag, by_type] : mm_ ? mm_->pool_tags() : kNoTags) {
    std::string name;
    for (int b = 0; b < 4; ++b) {
      const char ch = static_cast<char>(tag >> (8 * b) & 0xff);
      name += ch >= 0x20 && ch < 0x7f ? ch : '.';
    }
    for (const auto& [type, t] :
         {std::pair{"nonpaged", &by_type.first}, std::pair{"paged", &by_type.second}}) {
      if (t->allocs == 0) continue;
      j.begin_object()
          .field("tag", name)
          .field("type", type)
          .field("allocs", t->allocs)
          .field("frees", t->frees)
          .field("bytes", t->bytes)
          .end_object();
    }
  }
  j.end_array().end_object();
}

void KernelHost::print_summary(std::FILE* out) const {
  if (!kernel_) return;
  const auto& s = kernel_->stats();
  const auto& h = hal_->stats();
  std::fprintf(
      out,
      "  kernel     %s: %llu interrupts (%llu deferred, %llu spurious), %llu/%llu "
      "DPCs run/queued, %llu thread switches, %llu %s\n",
      hal_->apic()                          ? "APIC HAL"
      : hal_->mode() == hal::IrqlMode::lazy ? "lazy IRQL"
                                            : "eager IRQL",
      static_cast<unsigned long long>(s.interrupts), static_cast<unsigned long long>(s.deferred),
      static_cast<unsigned long long>(s.spurious), static_cast<unsigned long long>(s.dpcs_executed),
      static_cast<unsigned long long>(s.dpcs_queued),
      static_cast<unsigned long long>(s.context_switches),
      static_cast<unsigned long long>(hal_->apic() ? h.tpr_writes : pic_accesses()),
      hal_->apic() ? "TPR writes" : "PIC accesses");
  if (kernel_->processor_count() > 1) {
    for (unsigned n = 0; n < kernel_->processor_count(); ++n) {
      const ke::Prcb& p = kernel_->processor(n);
      const auto t = kernel_->irql_time(n);
      double total = 0;
      for (auto v : t) total += static_cast<double>(v);
      auto pct = [total](std::uint64_t v) {
        return total > 0 ? 100.0 * static_cast<double>(v) / total : 0.0;
      };
      std::fprintf(
          out,
          "  %-10s %llu interrupts, %llu DPCs, %llu switches, %llu IPIs in; "
          "IRQL passive %.1f%% dispatch %.1f%% device %.1f%% high %.1f%%; "
          "spin-waited %.2f us\n",
          fmt::format("ke cpu{}", n).c_str(), static_cast<unsigned long long>(p.stats.interrupts),
          static_cast<unsigned long long>(p.stats.dpcs_executed),
          static_cast<unsigned long long>(p.stats.context_switches),
          static_cast<unsigned long long>(p.stats.ipis_received), pct(t[0] + t[1]), pct(t[2]),
          pct(t[3]), pct(t[4]), static_cast<double>(p.stats.spin_wait_ps) / 1e6);
    }
  }
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
    if (pnp_) {
      const auto& ps = pnp_->stats();
      std::string failed;
      for (const auto& n : pnp_->nodes())
        if (n->state == io::DevNodeState::not_started)
          failed += fmt::format("; {} not started: {}", n->instance_path, n->problem);
      std::fprintf(out, "  pnp        %llu devices started, %llu not started, %llu removed%s\n",
                   static_cast<unsigned long long>(ps.started),
                   static_cast<unsigned long long>(ps.not_started),
                   static_cast<unsigned long long>(ps.removed), failed.c_str());
    }
    if (mm_ && config_.mm.paging) {
      const mm::MmStats& m = mm_->stats();
      std::uint64_t ws = 0;
      for (const auto& p : mm_->processes()) ws += p->working_set.size();
      std::fprintf(
          out,
          "  mm         %llu page faults (%llu demand-zero, %llu soft, %llu hard), %llu "
          "paging reads, %llu paging writes, %llu trims (%llu pages); %llu pages in "
          "working sets, %llu available of %llu; paged pool %llu KiB in use\n",
          static_cast<unsigned long long>(m.faults), static_cast<unsigned long long>(m.demand_zero),
          static_cast<unsigned long long>(m.soft), static_cast<unsigned long long>(m.hard),
          static_cast<unsigned long long>(m.paging_reads),
          static_cast<unsigned long long>(m.paging_writes),
          static_cast<unsigned long long>(m.trims),
          static_cast<unsigned long long>(m.pages_trimmed), static_cast<unsigned long long>(ws),
          static_cast<unsigned long long>(mm_->available_pages()),
          static_cast<unsigned long long>(mm_->frames()),
          static_cast<unsigned long long>(mm_->paged_pool_in_use() / 1024));
    }
    for (const auto& [name, d] : drivers_) {
      const std::string line = d->summary();
      if (!line.empty()) std::fprintf(out, "  driver     %s: %s\n", name.c_str(), line.c_str());
    }
  }
}

}  // namespace platform
