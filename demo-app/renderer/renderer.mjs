// Shows the live status. window.procguard comes from procguard/preload (contextBridge).
import { connect } from './status-element.mjs';

connect(document.getElementById('status'), window.procguard);
