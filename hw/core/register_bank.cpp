#include "hw/core/register_bank.h"

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace hw {
namespace {
// A register's 1, 2 or 4 bytes as fixed-size copies the compiler inlines (a memcpy of a
// variable length is a library call on every access).
void copy_bytes(void* to, const void* from, unsigned len) {
  switch (len) {
    case 1:
      std::memcpy(to, from, 1);
      break;
    case 2:
      std::memcpy(to, from, 2);
      break;
    default:
      std::memcpy(to, from, 4);
      break;
  }
}
}  // namespace

Register& RegisterBank::add(const std::string& name, std::uint64_t offset, unsigned width,
                            std::uint32_t reset, Access access) {
  if (width != 1 && width != 2 && width != 4)
    throw std::logic_error(fmt::format("{}: register {} has width {}", owner_, name, width));
  for (const auto& r : regs_) {
    if (offset < r.offset() + r.width() && r.offset() < offset + width)
      throw std::logic_error(fmt::format("{}: register {} overlaps {}", owner_, name, r.name()));
  }
  Register& r = regs_.emplace_back(name, offset, width, reset, access);
  if (offset < kIndexed) {
    if (index_.size() <= offset) index_.resize(offset + 1, nullptr);
    index_[offset] = &r;
  }
  return r;
}

void RegisterBank::reset() {
  for (auto& r : regs_) r.reset();
}

Register* RegisterBank::find(std::uint64_t offset) {
  if (offset < kIndexed) return offset < index_.size() ? index_[offset] : nullptr;
  for (auto& r : regs_) {
    if (r.offset() == offset) return &r;
  }
  return nullptr;
}

void RegisterBank::transport(tlm::tlm_generic_payload& tx) {
  const unsigned len = tx.get_data_length();
  if (tx.get_byte_enable_ptr() != nullptr) {
    tx.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  if (tx.get_streaming_width() < len) {
    tx.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  Register* r = find(tx.get_address());
  if (r == nullptr) {
    tx.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (len != r->width()) {
    tx.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  if (tx.is_read()) {
    if (r->access() == Access::write_only) {
      tx.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
    }
    std::uint32_t v = (r->on_read ? r->on_read() : r->value()) & r->mask();
    copy_bytes(tx.get_data_ptr(), &v, len);  // little-endian host, little-endian bus
  } else if (tx.is_write()) {
    if (r->access() == Access::read_only) {
      tx.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
    }
    std::uint32_t v = 0;
    copy_bytes(&v, tx.get_data_ptr(), len);
    if (r->on_write) {
      r->on_write(v & r->mask());
    } else {
      r->set(v);
    }
  } else {
    tx.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  tx.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace hw
