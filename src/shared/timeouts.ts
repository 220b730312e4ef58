// Every timeout the workflows and activities use, in one place, with its unit in the name or as a Temporal duration string.
export const PING_ACTIVITY_TIMEOUT = '10 seconds';
