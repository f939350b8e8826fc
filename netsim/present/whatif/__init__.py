"""The what-if page of ``netsim serve``: controls, state and the local web server."""

from netsim.present.whatif.controls import Control, controls_of
from netsim.present.whatif.session import ChangeError, View, WhatIf

__all__ = ["ChangeError", "Control", "View", "WhatIf", "controls_of"]
