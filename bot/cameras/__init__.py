"""Cellular cameras: the registry of cameras and their health; mail/ reads their e-mail."""

from bot.cameras.health import SilentCamera, camera_status, silent_cameras
from bot.cameras.registry import Assigned, Camera, CameraError, Cameras, parse_rule

__all__ = [
    "Assigned",
    "Camera",
    "CameraError",
    "Cameras",
    "SilentCamera",
    "camera_status",
    "parse_rule",
    "silent_cameras",
]
