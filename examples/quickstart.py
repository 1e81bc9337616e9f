"""The README's Python quick start: CI runs it against the pip-installed package."""
import shmkit

# A writer creates a named broadcast channel; any number of readers open it by name, from
# this process or any other.
with shmkit.BroadcastWriter.create("/quickstart-py", capacity=64 * 1024) as writer, \
        shmkit.BroadcastReader.open("/quickstart-py") as reader:
    writer.write(b"hello")
    writer.write_obj({"cmd": "start", "gain": 1.5})  # msgpack
    print(reader.read(timeout=1.0))                   # b'hello'
    print(reader.read_obj(timeout=1.0))               # {'cmd': 'start', 'gain': 1.5}
    print(reader.try_read())                          # None: nothing new yet

# A video ring: fill a frame in place (zero-copy), read it back as a NumPy view.
with shmkit.VideoWriter.create("/quickstart-cam", width=640, height=480, format="rgb24") as camera, \
        shmkit.VideoReader.open("/quickstart-cam") as viewer:
    with camera.reserve(pts=1) as frame:  # a (480, 640, 3) uint8 array in shared memory
        frame[:, :, 0] = 255              # an exception here would publish nothing
    view = viewer.view_latest()           # zero-copy, read-only
    print(view.array.shape, view.info.pts, view.array[0, 0], view.valid)
    # Arrays pin the mapping: close() (here, leaving the with block) raises BufferError while
    # any exist, so memory can never be unmapped under a live array.
    del frame, view

shmkit.remove("/quickstart-py")
shmkit.remove("/quickstart-cam")
