"""The simulator's sleep model: polled cars stay awake, or sleep after N idle minutes
regardless (``Vehicle.data_keeps_awake``, the benchmarks' ``idle9`` model)."""

from tesla_sim.world import World


def test_polling_does_not_keep_the_car_awake_when_told() -> None:
    """With ``data_keeps_awake`` False the car sleeps ``sleep_after`` after its last
    activity however often ``vehicle_data`` is answered; nothing counts as kept awake."""
    w = World(seed=1, virtual_clock=True, start_time=1_750_000_000.0)
    polled, default = (w.vehicle(vin) for vin in list(w.vehicles)[:2])
    polled.data_keeps_awake = False
    for car in (polled, default):
        car.sleep_after = 540.0
        car.set_activity("park", w.now())
    for _ in range(4):
        w.advance(120)
        polled.touch_data(w.now())
        default.touch_data(w.now())
    w.advance(60)  # 540 s after the last activity
    assert polled.reported_state == "asleep"
    assert default.reported_state == "online"  # its idle timer restarted at each poll
    assert w.meter.vehicle(polled.vin).kept_awake_s == 0
    # a wake_up of an online car restarts nothing either; the owner's activity does
    polled.force_online(w.now())
    w.advance(500)
    polled.wake_up(w.now(), w.rng)
    w.advance(40)
    assert polled.reported_state == "asleep"
