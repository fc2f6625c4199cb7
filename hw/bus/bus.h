#pragma once
// The system bus: a router with two address spaces, memory and the isolated I/O port space
// (selected by the AddressSpaceExtension, the M/IO# pin), each decoded from the config's map.
// An access nobody decodes gets TLM_ADDRESS_ERROR_RESPONSE. Every bus cycle is accounted to the
// master that used it, and the arbiter (hw/bus/arbiter.h) shares the bus between the CPU and
// the DMA engine in burst, cycle-stealing or transparent mode.
#include <cstdint>
#include <string>
#include <vector>

#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/bus/bus_master_if.h"
#include "hw/core/traced.h"
#include "hw/cpu/processor.h"
#include "util/log.h"

namespace hw::bus {

// The address spaces' sizes: 64 KiB of I/O ports (IN/OUT take a 16-bit port) and 4 GiB of
// memory (the machine's physical addresses are 32-bit). Every window must fit its space.
constexpr std::uint64_t kIoSpaceSize = 0x10000;
constexpr std::uint64_t kMemorySpaceSize = 0x100000000ull;

struct Mapping {
  Space space;
  std::uint64_t base, size;
  std::string name;
  unsigned target;  // index on `out`
};

class Bus : public sc_core::sc_module, public bus_master_if, public dma_bus_if {
 public:
  struct MasterStats {
    std::string name;
    std::uint64_t transactions = 0, bus_cycles = 0, errors = 0;
  };

  tlm_utils::multi_passthrough_target_socket<Bus> in;      // masters
  tlm_utils::multi_passthrough_initiator_socket<Bus> out;  // targets, one binding per mapping
  sc_core::sc_export<bus_master_if> masters;
  sc_core::sc_export<dma_bus_if> dma;

  // `io_wait_states`: extra bus cycles per I/O-space access (ISA-style slow ports).
  // `steal_gap`: cycles the CPU gets between two cycle-stealing DMA units.
  Bus(const sc_core::sc_module_name& name, std::uint64_t clock_hz, unsigned io_wait_states,
      unsigned steal_gap = 1);

  // Binds a master and returns its id for use_bus() and statistics. A DMA master's cycles are
  // counted by the arbiter (its transactions carry whole segments), not per transaction.
  unsigned attach_master(tlm::tlm_base_initiator_socket<>& socket, const std::string& name,
                         bool dma = false);
  // Maps a target's window. Returns an empty string, or why the window was refused (overlap,
  // zero size, wraps the address space): the config layer reports it with file and line.
  std::string map(Space space, tlm::tlm_base_target_socket<>& target, std::uint64_t base,
                  std::uint64_t size, const std::string& name);

  const Mapping* decode(Space space, std::uint64_t address, unsigned length) const;
  const std::vector<Mapping>& mappings() const { return map_; }
  const std::vector<MasterStats>& master_stats() const { return stats_; }
  std::uint64_t unmapped_accesses() const { return unmapped_; }
  sc_core::sc_time cycle() const { return cycle_; }
  const Arbiter& arbiter() const { return arb_; }
  // Bus cycles per master, the DMA's from the arbiter.
  std::uint64_t master_cycles(unsigned master) const;
  void trace(sc_core::sc_trace_file* tf);

  // --- bus_master_if (the CPU)
  sc_core::sc_time use_bus(unsigned master, std::uint64_t bus_cycles,
                           const sc_core::sc_time& offset) override;
  void account(unsigned master, std::uint64_t bus_cycles) override;
  Arbiter::Progress cpu_progress(double share, const sc_core::sc_time& offset) override;
  void cpu_demand(double share, const sc_core::sc_time& offset) override;
  const sc_core::sc_event& arbitration_event() const override { return arbitration_; }
  std::uint64_t bus_clock_hz() const override { return hz_; }
  bool dma_idle() const override { return !arb_.dma_active(); }
  std::uint64_t dma_steals_until() const override { return arb_.steals_until(); }

  // --- dma_bus_if (the DMA engine)
  sc_core::sc_time begin_segment(DmaMode mode, std::uint64_t units,
                                 unsigned cycles_per_unit) override;
  bool segment_done(sc_core::sc_time& end) override;
  void end_segment() override;
  const sc_core::sc_event& demand_event() const override { return demand_; }

 private:
  void b_transport(int master, tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(int master, tlm::tlm_generic_payload& tx, tlm::tlm_dmi& dmi);
  unsigned transport_dbg(int master, tlm::tlm_generic_payload& tx);
  void invalidate_direct_mem_ptr(int target, sc_dt::uint64 start, sc_dt::uint64 end);

  util::Logger log_;
  std::uint64_t hz_;
  sc_core::sc_time cycle_;
  unsigned io_wait_states_;
  std::vector<Mapping> map_;
  // I/O space decoded by a table: the mapping index + 1 of every port (0: none), 128 KiB, so
  // an IN/OUT finds its target in one look-up instead of a walk over the mappings. Memory
  // keeps the walk, trying the mapping it last found first.
  std::vector<std::uint16_t> io_table_;
  mutable std::size_t last_memory_ = 0;
  std::vector<MasterStats> stats_;
  std::vector<std::uint8_t> dma_master_;  // bytes: read on every transaction
  std::uint64_t unmapped_ = 0;
  Arbiter arb_;
  sc_core::sc_event arbitration_, demand_;
  // Traced: HOLD (a segment in progress), HLDA (granted: the CPU is off the bus for it; not in
  // transparent mode), and the segment's mode (0 none, 1 burst, 2 cycle-stealing, 3 transparent).
  Traced<bool> hold_ = false, hlda_ = false;  // traced (the VCD): they report their changes
  Traced<std::uint8_t> owner_mode_ = 0;
};

}  // namespace hw::bus
