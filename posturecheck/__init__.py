"""posturecheck: camera-based posture and grooming coach for service-etiquette training."""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
