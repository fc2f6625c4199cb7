#pragma once
// RAM with DMI: the CPU and (later) the DMA engine read and write it directly. Out-of-range or
// byte-enabled accesses get TLM error responses.
#include <cstdint>
#include <memory>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "util/log.h"

namespace hw::memory {

class Ram : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Ram> in;

  Ram(const sc_core::sc_module_name& name, std::uint64_t size, sc_core::sc_time latency);

  std::uint64_t size() const { return size_; }
  std::uint8_t* data() { return data_.get(); }
  std::uint64_t reads() const { return reads_; }
  std::uint64_t writes() const { return writes_; }

 private:
  struct FreeDeleter {
    void operator()(std::uint8_t* p) const;
  };

  void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& tx, tlm::tlm_dmi& dmi);
  unsigned transport_dbg(tlm::tlm_generic_payload& tx);
  bool in_range(const tlm::tlm_generic_payload& tx) const;

  util::Logger log_;
  std::uint64_t size_;
  sc_core::sc_time latency_;
  std::unique_ptr<std::uint8_t, FreeDeleter> data_;  // calloc: untouched pages cost nothing
  std::uint64_t reads_ = 0, writes_ = 0;
};

}  // namespace hw::memory
