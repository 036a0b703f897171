"""Detector response: quenching, resolution, efficiency and selection, configured by detector cards."""
