#include "hw/bus/bus.h"

#include <fmt/format.h>

#include "hw/core/address_space.h"
#include "hw/core/sim_time.h"
#include "util/event_log.h"

namespace hw::bus {
namespace {
const char* space_name(Space s) {
  return s == Space::io ? "io" : "memory";
}
}  // namespace

Bus::Bus(const sc_core::sc_module_name& name, std::uint64_t clock_hz, unsigned io_wait_states,
         unsigned steal_gap)
    : sc_module(name),
      in("in"),
      out("out"),
      masters("masters"),
      dma("dma"),
      log_(this->name()),
      hz_(clock_hz),
      cycle_(period_of(clock_hz)),
      io_wait_states_(io_wait_states),
      arb_(to_ps(cycle_), steal_gap) {
  in.register_b_transport(this, &Bus::b_transport);
  in.register_get_direct_mem_ptr(this, &Bus::get_direct_mem_ptr);
  in.register_transport_dbg(this, &Bus::transport_dbg);
  out.register_invalidate_direct_mem_ptr(this, &Bus::invalidate_direct_mem_ptr);
  masters.bind(*this);
  dma.bind(*this);
}

unsigned Bus::attach_master(tlm::tlm_base_initiator_socket<>& socket, const std::string& name,
                            bool dma_master) {
  socket.bind(in);
  stats_.push_back({name});
  dma_master_.push_back(dma_master);
  return static_cast<unsigned>(stats_.size() - 1);
}

std::string Bus::map(Space space, tlm::tlm_base_target_socket<>& target, std::uint64_t base,
                     std::uint64_t size, const std::string& name) {
  if (size == 0) return fmt::format("{} has size 0", name);
  if (base + size < base) return fmt::format("{} wraps around the end of the address space", name);
  const std::uint64_t limit = space == Space::io ? kIoSpaceSize : kMemorySpaceSize;
  if (base + size > limit)
    return fmt::format("{} [{:#x}, {:#x}) does not fit the {} space [0, {:#x})", name, base,
                       base + size, space_name(space), limit);
  for (const auto& m : map_) {
    if (m.space == space && base < m.base + m.size && m.base < base + size)
      return fmt::format("{} [{:#x}, {:#x}) overlaps {} [{:#x}, {:#x}) in {} space", name, base,
                         base + size, m.name, m.base, m.base + m.size, space_name(space));
  }
  if (map_.size() >= 0xffff) return fmt::format("{}: too many windows on the bus", name);
  out.bind(target);
  map_.push_back({space, base, size, name, static_cast<unsigned>(map_.size())});
  if (space == Space::io) {
    if (io_table_.empty()) io_table_.assign(kIoSpaceSize, 0);
    std::fill(io_table_.begin() + static_cast<std::ptrdiff_t>(base),
              io_table_.begin() + static_cast<std::ptrdiff_t>(base + size),
              static_cast<std::uint16_t>(map_.size()));
  }
  return {};
}

const Mapping* Bus::decode(Space space, std::uint64_t address, unsigned length) const {
  auto fits = [&](const Mapping& m) {
    return m.space == space && address >= m.base && address - m.base + length <= m.size;
  };
  if (space == Space::io) {
    if (address >= io_table_.size() || io_table_[address] == 0) return nullptr;
    const Mapping& m = map_[io_table_[address] - 1u];
    return fits(m) ? &m : nullptr;  // an access running past its window's end is unmapped
  }
  if (last_memory_ < map_.size() && fits(map_[last_memory_])) return &map_[last_memory_];
  for (std::size_t i = 0; i < map_.size(); ++i) {
    if (!fits(map_[i])) continue;
    last_memory_ = i;
    return &map_[i];
  }
  return nullptr;
}

void Bus::b_transport(int master, tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
  const Space space = space_of(tx);
  std::uint64_t cycles = 1 + (space == Space::io ? io_wait_states_ : 0);
  auto& st = stats_[static_cast<std::size_t>(master)];
  ++st.transactions;
  if (!dma_master_[static_cast<std::size_t>(master)]) {
    st.bus_cycles += cycles;
    // The CPU's access waits while the DMA holds the bus (no segment: nothing to ask).
    if (arb_.dma_active())
      delay += from_ps(arb_.cpu_access(to_ps(sc_core::sc_time_stamp() + delay), cycles));
    delay += cycles * cycle_;
  }
  const std::uint64_t address = tx.get_address();
  const Mapping* m = decode(space, address, tx.get_data_length());
  if (m == nullptr) {
    ++unmapped_;
    ++st.errors;
    tx.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    log_.debug("{} {} {:#x} by {}: nothing mapped", space_name(space),
               tx.is_read() ? "read" : "write", address, st.name);
    if (util::events().enabled())
      util::events().emit(name(), "unmapped",
                          {{"space", space_name(space)},
                           {"address", address},
                           {"write", tx.is_write()},
                           {"master", st.name}});
    return;
  }
  tx.set_address(address - m->base);
  out[static_cast<int>(m->target)]->b_transport(tx, delay);
  tx.set_address(address);
  if (!tx.is_response_ok()) ++st.errors;
}

bool Bus::get_direct_mem_ptr(int, tlm::tlm_generic_payload& tx, tlm::tlm_dmi& dmi) {
  const std::uint64_t address = tx.get_address();
  const Mapping* m = decode(space_of(tx), address, 1);
  if (m == nullptr) return false;
  tx.set_address(address - m->base);
  bool ok = out[static_cast<int>(m->target)]->get_direct_mem_ptr(tx, dmi);
  tx.set_address(address);
  if (!ok) return false;
  // Translate the target's window back to bus addresses, clamped to the mapping.
  std::uint64_t end = std::min<std::uint64_t>(dmi.get_end_address(), m->size - 1);
  dmi.set_start_address(dmi.get_start_address() + m->base);
  dmi.set_end_address(end + m->base);
  return true;
}

unsigned Bus::transport_dbg(int, tlm::tlm_generic_payload& tx) {
  const std::uint64_t address = tx.get_address();
  const Mapping* m = decode(space_of(tx), address, tx.get_data_length());
  if (m == nullptr) return 0;
  tx.set_address(address - m->base);
  unsigned n = out[static_cast<int>(m->target)]->transport_dbg(tx);
  tx.set_address(address);
  return n;
}

void Bus::invalidate_direct_mem_ptr(int target, sc_dt::uint64 start, sc_dt::uint64 end) {
  for (const auto& m : map_) {
    if (m.target != static_cast<unsigned>(target)) continue;
    std::uint64_t s = m.base + start;
    std::uint64_t e = end >= m.size ? m.base + m.size - 1 : m.base + end;
    for (unsigned i = 0; i < in.size(); ++i)
      in[static_cast<int>(i)]->invalidate_direct_mem_ptr(s, e);
  }
}

std::uint64_t Bus::master_cycles(unsigned master) const {
  if (master >= stats_.size()) return 0;
  return dma_master_[master] ? arb_.stats().dma_cycles : stats_[master].bus_cycles;
}

sc_core::sc_time Bus::use_bus(unsigned master, std::uint64_t bus_cycles,
                              const sc_core::sc_time& offset) {
  if (master < stats_.size()) stats_[master].bus_cycles += bus_cycles;
  return from_ps(arb_.cpu_access(to_ps(sc_core::sc_time_stamp() + offset), bus_cycles));
}

void Bus::account(unsigned master, std::uint64_t bus_cycles) {
  if (master < stats_.size()) stats_[master].bus_cycles += bus_cycles;
}

Arbiter::Progress Bus::cpu_progress(double share, const sc_core::sc_time& offset) {
  // No segment: full speed, and no need to ask the kernel's time (a library call).
  if (!arb_.dma_active()) return {};
  return arb_.cpu_progress(to_ps(sc_core::sc_time_stamp() + offset), share);
}

void Bus::cpu_demand(double share, const sc_core::sc_time& offset) {
  // A transparent segment's end moved: the engine projects it again at the CPU's instant.
  // Told to the CPU's scheduling hook like hw::notify_after (the offset is the CPU's own).
  // The time matters only to a segment in progress (no library call for it otherwise).
  const std::uint64_t now = arb_.dma_active() ? to_ps(sc_core::sc_time_stamp() + offset) : 0;
  if (arb_.cpu_demand(now, share)) {
    demand_.notify(offset);
    if (ScheduleHook hook = schedule_hook()) hook(offset);
  }
}

sc_core::sc_time Bus::begin_segment(DmaMode mode, std::uint64_t units, unsigned cycles_per_unit) {
  const std::uint64_t now = to_ps(sc_core::sc_time_stamp());
  const std::uint64_t end = arb_.dma_begin(now, mode, units, cycles_per_unit);
  hold_ = true;
  hlda_ = mode != DmaMode::transparent;
  owner_mode_ = static_cast<std::uint8_t>(1 + static_cast<unsigned>(mode));
  arbitration_.notify(sc_core::SC_ZERO_TIME);
  return end == Arbiter::kNever ? sc_core::SC_ZERO_TIME : from_ps(end - now);
}

bool Bus::segment_done(sc_core::sc_time& end) {
  const std::uint64_t now = to_ps(sc_core::sc_time_stamp());
  std::uint64_t e = now;
  const bool done = arb_.dma_done(now, e);
  end = e == Arbiter::kNever ? sc_core::SC_ZERO_TIME : from_ps(e - now);
  return done;
}

void Bus::end_segment() {
  arb_.dma_end(to_ps(sc_core::sc_time_stamp()));
  hold_ = hlda_ = false;
  owner_mode_ = 0;
  arbitration_.notify(sc_core::SC_ZERO_TIME);
}

void Bus::trace(sc_core::sc_trace_file* tf) {
  std::string n = name();
  hw::trace(tf, hold_, n + ".hold");
  hw::trace(tf, hlda_, n + ".hlda");
  hw::trace(tf, owner_mode_, n + ".dma_mode");
}

}  // namespace hw::bus
