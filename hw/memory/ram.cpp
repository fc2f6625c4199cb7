#include "hw/memory/ram.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include <fmt/format.h>

namespace hw::memory {

void Ram::FreeDeleter::operator()(std::uint8_t* p) const {
  std::free(p);
}

Ram::Ram(const sc_core::sc_module_name& name, std::uint64_t size, sc_core::sc_time latency)
    : sc_module(name),
      in("in"),
      log_(this->name()),
      size_(size),
      latency_(latency),
      data_(static_cast<std::uint8_t*>(std::calloc(size, 1))) {
  if (!data_)
    throw std::runtime_error(
        fmt::format("{}: cannot allocate {} bytes of host memory for the RAM", this->name(), size));
  // Large pages where the host offers them (transparent huge pages on request): a benchmark
  // moving 64 MiB otherwise spends more time in page faults (one per 4 KiB touched) than in
  // simulating. Only the 2 MiB-aligned inside of the allocation can be asked for.
  constexpr std::uintptr_t kHuge = 2u << 20;
  const auto begin = reinterpret_cast<std::uintptr_t>(data_.get());
  const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t last = (begin + size) & ~(kHuge - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  in.register_b_transport(this, &Ram::b_transport);
  in.register_get_direct_mem_ptr(this, &Ram::get_direct_mem_ptr);
  in.register_transport_dbg(this, &Ram::transport_dbg);
}

bool Ram::in_range(const tlm::tlm_generic_payload& tx) const {
  return tx.get_address() < size_ && tx.get_data_length() <= size_ - tx.get_address();
}

void Ram::b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay) {
  if (!in_range(tx)) {
    tx.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (tx.get_byte_enable_ptr() != nullptr || tx.get_streaming_width() < tx.get_data_length()) {
    tx.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  std::uint8_t* p = data_.get() + tx.get_address();
  if (tx.is_read()) {
    std::memcpy(tx.get_data_ptr(), p, tx.get_data_length());
    ++reads_;
  } else if (tx.is_write()) {
    std::memcpy(p, tx.get_data_ptr(), tx.get_data_length());
    ++writes_;
  }
  delay += latency_;
  tx.set_dmi_allowed(true);
  tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool Ram::get_direct_mem_ptr(tlm::tlm_generic_payload&, tlm::tlm_dmi& dmi) {
  dmi.set_dmi_ptr(data_.get());
  dmi.set_start_address(0);
  dmi.set_end_address(size_ - 1);
  dmi.set_granted_access(tlm::tlm_dmi::DMI_ACCESS_READ_WRITE);
  dmi.set_read_latency(latency_);
  dmi.set_write_latency(latency_);
  return true;
}

unsigned Ram::transport_dbg(tlm::tlm_generic_payload& tx) {
  if (tx.get_address() >= size_) return 0;
  unsigned n = static_cast<unsigned>(
      std::min<std::uint64_t>(tx.get_data_length(), size_ - tx.get_address()));
  std::uint8_t* p = data_.get() + tx.get_address();
  if (tx.is_read())
    std::memcpy(tx.get_data_ptr(), p, n);
  else if (tx.is_write())
    std::memcpy(p, tx.get_data_ptr(), n);
  return n;
}

}  // namespace hw::memory
