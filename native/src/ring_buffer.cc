#include "ring_buffer.h"

#include <errno.h>

#include "addon_data.h"
#include "args.h"
#include "errors.h"

namespace loupe {

RingBufferState::RingBufferState(Napi::Env env, std::string mapName, Napi::Function onRecord)
    : env_(env),
      mapName_(std::move(mapName)),
      onRecord_(Napi::Persistent(onRecord)),
      asyncContext_(env, "loupe.RingBuffer") {}

RingBufferState::~RingBufferState() { Close(); }

void RingBufferState::Start(int mapFd, Napi::Object owner) {
  LibbpfLogCapture log;
  ring_.reset(ring_buffer__new(mapFd, OnSample, this, nullptr));
  if (!ring_) ThrowBpfError(env_, errno, "creating a ring buffer reader for map '" + mapName_ + "'", &log);

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env_, &loop) != napi_ok) ThrowUsageError(env_, "RingBuffer: no event loop in this environment");
  poll_ = new uv_poll_t;
  int err = uv_poll_init(loop, poll_, ring_buffer__epoll_fd(ring_.get()));
  if (err == 0) {
    poll_->data = this;
    err = uv_poll_start(poll_, UV_READABLE, OnReadable);
  }
  if (err != 0) {
    Close();
    ThrowBpfError(env_, -err, "watching ring buffer '" + mapName_ + "' on the event loop");
  }
  owner_ = Napi::Persistent(owner);
}

int RingBufferState::OnSample(void* context, void* data, size_t size) {
  auto* state = static_cast<RingBufferState*>(context);
  if (state->closed_) return -ECANCELED;  // closed from inside onRecord: stop delivering
  Napi::Env env = state->env_;
  Napi::HandleScope scope(env);
  Napi::Buffer<uint8_t> record = Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t*>(data), size);
  try {
    state->onRecord_.Call({record});
  } catch (const Napi::Error& error) {
    // Never unwind through libbpf's C frames: stop here, rethrow after consume.
    state->pendingError_ = Napi::Persistent(error.Value().As<Napi::Value>());
    return -ECANCELED;
  }
  return 0;
}

int RingBufferState::Drain() {
  consuming_ = true;
  int result = ring_buffer__consume(ring_.get());
  consuming_ = false;
  if (closed_) ring_.reset();  // Close() from inside onRecord left the free to us
  return result;
}

void RingBufferState::OnReadable(uv_poll_t* handle, int status, int) {
  auto* raw = static_cast<RingBufferState*>(handle->data);
  if (raw == nullptr) return;
  std::shared_ptr<RingBufferState> state = raw->shared_from_this();  // onRecord may drop the last JS reference
  Napi::Env env = state->env_;
  Napi::HandleScope handleScope(env);
  Napi::CallbackScope callbackScope(env, state->asyncContext_);
  Napi::Value error;
  if (status < 0) {
    error = Napi::Error::New(env, "RingBuffer '" + state->mapName_ + "': event loop poll failed: " + uv_strerror(status)).Value();
  } else {
    int result = state->Drain();
    if (!state->pendingError_.IsEmpty()) {
      error = state->pendingError_.Value();
      state->pendingError_.Reset();
    } else if (result < 0 && !state->closed_) {
      error = Napi::Error::New(env, "RingBuffer '" + state->mapName_ + "': consume failed: " + ErrnoName(-result)).Value();
    }
  }
  // Nobody up the stack can catch it: hand it to process 'uncaughtException'.
  if (!error.IsEmpty()) napi_fatal_exception(env, error);
}

int RingBufferState::ConsumeNow() {
  if (closed_) ThrowUsageError(env_, "RingBuffer '" + mapName_ + "' is closed");
  if (consuming_) ThrowUsageError(env_, "RingBuffer '" + mapName_ + "': consume() called from inside its own onRecord");
  std::shared_ptr<RingBufferState> keep = shared_from_this();
  int result = Drain();
  if (!pendingError_.IsEmpty()) {
    Napi::Value error = pendingError_.Value();
    pendingError_.Reset();
    throw Napi::Error(env_, error);
  }
  if (result < 0 && !closed_) ThrowBpfError(env_, -result, "consuming ring buffer '" + mapName_ + "'");
  return result < 0 ? 0 : result;
}

void RingBufferState::Close() {
  if (closed_) return;
  closed_ = true;
  if (poll_ != nullptr) {
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    poll_ = nullptr;
  }
  if (!consuming_) ring_.reset();
  onRecord_.Reset();
  owner_.Reset();
}

Napi::Function NativeRingBuffer::Define(Napi::Env env) {
  return DefineClass(env, "NativeRingBuffer",
                     {
                         InstanceMethod<&NativeRingBuffer::Consume>("consume"),
                         InstanceMethod<&NativeRingBuffer::Close>("close"),
                         InstanceAccessor<&NativeRingBuffer::Closed>("closed"),
                     });
}

Napi::Object NativeRingBuffer::New(Napi::Env env, const std::shared_ptr<ObjectState>& object, int mapFd,
                                   const std::string& mapName, Napi::Function onRecord, Napi::Object owner) {
  auto state = std::make_shared<RingBufferState>(env, mapName, onRecord);
  Napi::Object self = Data(env).ringBuffer.New({Napi::External<std::shared_ptr<RingBufferState>>::New(env, &state)});
  state->Start(mapFd, owner);
  object->AddDependent(state);
  return self;
}

NativeRingBuffer::NativeRingBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeRingBuffer>(info) {
  state_ = *InternalArg<std::shared_ptr<RingBufferState>>(info, "RingBuffer");
}

NativeRingBuffer::~NativeRingBuffer() { state_->Close(); }

Napi::Value NativeRingBuffer::Consume(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state_->ConsumeNow());
}

void NativeRingBuffer::Close(const Napi::CallbackInfo&) { state_->Close(); }

Napi::Value NativeRingBuffer::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_->closed());
}

}  // namespace loupe
