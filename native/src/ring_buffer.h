// RingBuffer: delivers the records of a BPF ring buffer map to a JavaScript
// callback on the Node event loop. libbpf's epoll fd is watched by a uv_poll_t,
// so there is no busy polling and no thread per map.
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>
#include <string>

#include "libbpf_handles.h"
#include "object_state.h"

namespace loupe {

class RingBufferState : public ObjectDependent, public std::enable_shared_from_this<RingBufferState> {
 public:
  RingBufferState(Napi::Env env, std::string mapName, Napi::Function onRecord);
  ~RingBufferState() override;

  // Creates the libbpf ring buffer and starts watching it; owner (the
  // JavaScript RingBuffer, which holds its map and object) is kept alive like
  // any active handle until Close().
  void Start(int mapFd, Napi::Object owner);
  // Drains what is there now, calling onRecord for each record; rethrows what
  // onRecord threw.
  int ConsumeNow();
  void Close() override;
  bool closed() const { return closed_; }

 private:
  static int OnSample(void* context, void* data, size_t size);
  static void OnReadable(uv_poll_t* handle, int status, int events);
  // Runs ring_buffer__consume; returns its result and leaves a JavaScript
  // exception from onRecord in pendingError_.
  int Drain();

  Napi::Env env_;
  std::string mapName_;
  Napi::FunctionReference onRecord_;
  Napi::ObjectReference owner_;
  Napi::AsyncContext asyncContext_;
  RingBufferPtr ring_;
  uv_poll_t* poll_ = nullptr;  // freed by its close callback
  bool consuming_ = false;
  bool closed_ = false;
  Napi::Reference<Napi::Value> pendingError_;
};

class NativeRingBuffer : public Napi::ObjectWrap<NativeRingBuffer> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object New(Napi::Env env, const std::shared_ptr<ObjectState>& object, int mapFd,
                          const std::string& mapName, Napi::Function onRecord, Napi::Object owner);
  explicit NativeRingBuffer(const Napi::CallbackInfo& info);
  ~NativeRingBuffer() override;

 private:
  Napi::Value Consume(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);

  std::shared_ptr<RingBufferState> state_;
};

}  // namespace loupe
