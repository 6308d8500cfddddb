import { defineTable } from "convex/server";
import { v } from "convex/values";

export const schedulingTables = {
  events: defineTable({
    title: v.string(),
    description: v.optional(v.string()),
    startTime: v.number(),
    endTime: v.number(),
    createdBy: v.string(), // a user or agent id
    participants: v.optional(v.array(v.string())),
    tags: v.optional(v.array(v.string())),
    createdAt: v.number(),
  })
    .index("by_creator_and_start", ["createdBy", "startTime"])
    .index("by_start", ["startTime"]),

  // One row per participant of an event, kept by ONE beside the event (an
  // index cannot reach into the participants array): how each person's
  // events are listed by time.
  eventAttendees: defineTable({
    eventId: v.id("events"),
    attendee: v.string(), // a user or agent id
    startTime: v.number(),
  })
    .index("by_attendee_and_start", ["attendee", "startTime"])
    .index("by_event", ["eventId"]),

  reminders: defineTable({
    userId: v.optional(v.id("users")),
    agentId: v.optional(v.id("agents")),
    message: v.string(),
    remindAt: v.number(),
    relatedEntity: v.optional(v.string()), // a message id, event id…
    createdAt: v.number(),
    firedAt: v.optional(v.number()), // set by the scheduler when it fired
  })
    .index("by_remindAt", ["remindAt"])
    .index("by_user", ["userId", "remindAt"])
    .index("by_agent", ["agentId", "remindAt"]),
};
