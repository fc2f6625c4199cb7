#pragma once
// Helpers for model benches that drive a model from sc_main between sc_start() calls.
#include <cstdint>
#include <stdexcept>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

namespace tests {

// Runs every delta cycle of the current instant (signal writes propagate, methods react).
inline void settle() {
  // The first call ends elaboration and runs the initialization phase.
  if (sc_core::sc_get_status() == sc_core::SC_ELABORATION) sc_core::sc_start(sc_core::SC_ZERO_TIME);
  while (sc_core::sc_get_status() != sc_core::SC_STOPPED &&
         sc_core::sc_pending_activity_at_current_time())
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
}

inline void run_for(const sc_core::sc_time& t) {
  if (sc_core::sc_get_status() == sc_core::SC_ELABORATION) sc_core::sc_start(sc_core::SC_ZERO_TIME);
  if (sc_core::sc_get_status() == sc_core::SC_STOPPED) return;  // powered off
  sc_core::sc_start(t);
  settle();
}

// An initiator that model benches bind to a model's `in` socket and call from sc_main
// between sc_start() calls (the VCML-style register test: no simulation process needed).
class Initiator : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Initiator> out{"out"};
  explicit Initiator(const sc_core::sc_module_name& name) : sc_module(name) {}

  tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t address, unsigned width,
                                  std::uint32_t& data) {
    tlm::tlm_generic_payload tx;
    tx.set_command(cmd);
    tx.set_address(address);
    tx.set_data_ptr(reinterpret_cast<unsigned char*>(&data));
    tx.set_data_length(width);
    tx.set_streaming_width(width);
    tx.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    out->b_transport(tx, delay);
    return tx.get_response_status();
  }
  void write(std::uint64_t address, std::uint32_t v, unsigned width = 1) {
    if (access(tlm::TLM_WRITE_COMMAND, address, width, v) != tlm::TLM_OK_RESPONSE)
      throw std::runtime_error("write failed");
  }
  std::uint32_t read(std::uint64_t address, unsigned width = 1) {
    std::uint32_t v = 0;
    if (access(tlm::TLM_READ_COMMAND, address, width, v) != tlm::TLM_OK_RESPONSE)
      throw std::runtime_error("read failed");
    return v;
  }
};

}  // namespace tests
